/** Small DOM helpers: element construction and labelled form fields. */

export type Child = Node | string | number | null | undefined | false | Child[];
type Handler = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | null | undefined | Handler>;

/**
 * Creates an element. Attributes whose name starts with `on` and whose value
 * is a function become event listeners; `false`, null and undefined omit the
 * attribute; `true` sets it empty.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export interface Choice {
  value: string;
  label: string;
}

/** A labelled <select name=...>; `onChange` receives the chosen value. */
export function selectField(label: string, name: string, choices: Choice[], value: string, onChange: (value: string) => void): HTMLLabelElement {
  const select = h('select', { name, onchange: (e) => onChange((e.target as HTMLSelectElement).value) }, ...choices.map((c) => h('option', { value: c.value, selected: c.value === value }, c.label)));
  return h('label', { class: 'field' }, h('span', {}, label), select);
}

/** A labelled text or number <input name=...>; `onChange` fires on every edit. */
export function inputField(
  label: string,
  name: string,
  value: string,
  onChange: (value: string) => void,
  options: { type?: 'text' | 'number'; placeholder?: string; min?: number; max?: number; step?: number | 'any'; title?: string; size?: number } = {},
): HTMLLabelElement {
  const input = h('input', {
    name,
    type: options.type ?? 'text',
    value,
    placeholder: options.placeholder,
    min: options.min,
    max: options.max,
    step: options.step,
    title: options.title,
    size: options.size,
    oninput: (e) => onChange((e.target as HTMLInputElement).value),
  });
  return h('label', { class: 'field' }, h('span', {}, label), input);
}

export function checkboxField(label: string, name: string, checked: boolean, onChange: (checked: boolean) => void): HTMLLabelElement {
  const input = h('input', { type: 'checkbox', name, checked, onchange: (e) => onChange((e.target as HTMLInputElement).checked) });
  return h('label', { class: 'field checkbox' }, input, h('span', {}, label));
}

/** Starts a browser download of `content` as a file. */
export function download(filename: string, content: string, type: string): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = h('a', { href: url, download: filename, style: 'display:none' });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
