// The grid worker's phone app: one module for every screen under /m/. It reads the page's configuration, draws the
// bar, the tabs and the outbox's state, registers the service worker (offline start), starts the outbox and hands
// the screen the configuration names to its module. <html data-m> says "ready" once the screen is drawn.

import { pageConfig } from '../desk/common.js';
import { Outbox } from './outbox.js';
import { phone } from './ui.js';
import { patrolScreen } from './patrol.js';
import { reportScreen } from './report.js';
import { taskScreen } from './task.js';
import { tasksScreen } from './tasks.js';

const SCREENS = { tasks: tasksScreen, report: reportScreen, task: taskScreen, patrol: patrolScreen };

async function main() {
  const config = pageConfig();
  const ui = phone(config);
  const root = ui.bar();
  const outbox = new Outbox(config.endpoints, ui.showOutbox);
  if ('serviceWorker' in navigator) {
    // Without a secure context (plain http on an intranet) there is no service worker: the app still works online.
    navigator.serviceWorker.register(config.sw, { scope: config.scope }).catch(() => {});
  }
  await SCREENS[config.screen](root, config, ui, outbox);
  outbox.start();
  document.documentElement.dataset.m = 'ready';
}

main();
