// Small DOM helpers. Every piece of text reaches the page through text nodes (textContent), never as HTML:
// names, addresses and descriptions come from reports and imports and may hold markup or ${…}.

/** Create an element: attrs may hold className, dataset, title, type, value, placeholder, on<Event> handlers. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined) continue;
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'className' || key in node) node[key] = value;
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

/** Append children: strings and numbers as text nodes, nodes as they are, arrays flattened, null skipped. */
export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace a node's children. */
export function replace(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

/** Fill {name} placeholders of a label with values (plain text in, plain text out). */
export function fmt(template, values) {
  return String(template).replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** A percentage with one decimal from a 0..1 share, or an em dash. */
export function percent(share) {
  return share === null || share === undefined ? '—' : `${(share * 100).toFixed(1)}%`;
}
