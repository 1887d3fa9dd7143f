"""The wall's module preload list (mapserver/screen/modules.py): every module the entry imports, however deep,
through relative paths and the import map, each once, none loaded on demand; and the page lists them."""

from __future__ import annotations

import re

from mapserver.screen.modules import module_graph, static_imports
from tests.conftest import make_token

PRELOAD = re.compile(r'<link rel="modulepreload" href="([^"]+)"/>')


def test_imports_are_read_in_every_static_form_and_never_on_demand():
    source = """import { a } from './a.js';
import {
  b,
  c,
} from "../lib/b.js";
export { d } from './d.js';
import './side-effect.js';
const later = () => import('./later.js'); // loaded when asked: not preloaded
// import { nope } from './commented.js' is not at a line's start
const s = "import x from './string.js'";
"""
    assert static_imports(source) == ["./a.js", "../lib/b.js", "./d.js", "./side-effect.js"]


def test_the_graph_follows_every_level_and_the_import_map_once(tmp_path):
    files = {
        "app/main.js": "import { x } from './x.js';\nimport { y } from '../shared/y.js';\n",
        "app/x.js": "import { y } from '../shared/y.js';\nimport P from '@vendor/p';\n",
        "shared/y.js": "import { x } from '../app/x.js';\nimport { main } from '../app/main.js';\n",
        "vendor/p/index.js": "export default 1;\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    graph = module_graph(str(tmp_path), "app/main.js", {"@vendor/p": "vendor/p/index.js"})
    assert graph == ("app/x.js", "shared/y.js", "vendor/p/index.js")


def test_the_wall_preloads_its_module_graph(client, store):
    token = make_token(store, "viewer")
    html = client.get("/", headers={"Authorization": f"Bearer {token}"}).get_data(as_text=True)
    preloaded = PRELOAD.findall(html)
    names = {url.split("/static/", 1)[1].split("?", 1)[0] for url in preloaded}
    # Three levels deep: main.js → tiles.js → the vector tile decoder → its point class (named by the import map).
    assert {"screen/tiles.js", "vendor/mapbox-vector-tile/index.js", "vendor/mapbox-point-geometry/index.js",
            "video/player.js"} <= names
    assert "screen/main.js" not in names and not any("echarts" in n for n in names)  # ECharts loads on demand
    assert len(preloaded) == len(names)
