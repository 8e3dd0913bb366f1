// Type-ahead search over names and kinds: a word that names a kind narrows the search to it.

import { search, type GNode } from "./api";
import { h } from "./dom";
import { KINDS, styleOf } from "./kinds";

const KIND_WORDS = new Map<string, string>();
for (const kind of Object.keys(KINDS)) {
  KIND_WORDS.set(kind.toLowerCase(), kind);
  KIND_WORDS.set(kind.toLowerCase() + "s", kind);
  KIND_WORDS.set(kind.replace(/(?<!^)([A-Z])/g, "_$1").toLowerCase(), kind);
}

/** Split a query into kind words and the text that is left. */
export function parseQuery(text: string): { text: string; kinds: string[] } {
  const kinds: string[] = [];
  const rest: string[] = [];
  for (const word of text.trim().split(/\s+/).filter(Boolean)) {
    const bare = word.replace(/^kind:/i, "").toLowerCase();
    const kind = KIND_WORDS.get(bare);
    if (kind) kinds.push(kind);
    else rest.push(word);
  }
  return { text: rest.join(" "), kinds };
}

/** Wire the search box: debounced queries, a listbox driven by arrows, Enter and Escape. */
export function setupSearch(input: HTMLInputElement, list: HTMLUListElement, open: (node: GNode) => void): void {
  const box = input.parentElement!;
  let timer = 0;
  let ticket = 0;
  let results: GNode[] = [];
  let active = -1;

  const close = () => {
    list.hidden = true;
    box.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const mark = (i: number) => {
    active = i;
    [...list.querySelectorAll("li[role=option]")].forEach((li, j) => li.setAttribute("aria-selected", String(j === i)));
    if (i >= 0) {
      input.setAttribute("aria-activedescendant", `search-option-${i}`);
      list.querySelector(`#search-option-${i}`)?.scrollIntoView({ block: "nearest" });
    }
  };
  const choose = (node: GNode) => {
    close();
    input.value = "";
    input.blur();
    open(node);
  };
  const show = (nodes: GNode[], total: number, kinds: string[]) => {
    results = nodes;
    list.replaceChildren();
    if (!nodes.length) list.append(h("li", { class: "note" }, "No matching nodes"));
    nodes.forEach((node, i) => {
      const s = styleOf(node.kind);
      list.append(
        h(
          "li",
          { role: "option", id: `search-option-${i}`, "aria-selected": "false", "data-id": node.id, onmousedown: (e: Event) => (e.preventDefault(), choose(node)) },
          h("span", { class: "chip", style: `background:${s.color}` }, node.kind),
          h("span", { class: "name" }, node.kind === "Column" ? node.name.replace("#", " · ") : node.name),
          node.version ? h("span", { class: "muted" }, node.version.slice(0, 12)) : null,
          h("span", { class: "ns" }, node.namespace),
        ),
      );
    });
    if (total > nodes.length) {
      const narrowed = kinds.length ? ` (${kinds.join(", ")})` : "; add a kind (model, dataset…) to narrow";
      list.append(h("li", { class: "note" }, `${nodes.length} of ${total.toLocaleString()} matches${narrowed}`));
    }
    list.hidden = false;
    box.setAttribute("aria-expanded", "true");
    mark(nodes.length ? 0 : -1);
  };
  const run = async () => {
    const { text, kinds } = parseQuery(input.value);
    if (!text && !kinds.length) return close();
    const mine = ++ticket;
    try {
      const found = await search(text, kinds.length ? kinds : null);
      if (mine === ticket) show(found.nodes, found.total, kinds);
    } catch (e) {
      if (mine === ticket) {
        list.replaceChildren(h("li", { class: "note" }, `Search failed: ${(e as Error).message}`));
        list.hidden = false;
      }
    }
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = window.setTimeout(run, 150);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" && results.length) (e.preventDefault(), mark(Math.min(active + 1, results.length - 1)));
    else if (e.key === "ArrowUp" && results.length) (e.preventDefault(), mark(Math.max(active - 1, 0)));
    else if (e.key === "Enter" && !list.hidden && active >= 0) (e.preventDefault(), choose(results[active]));
    else if (e.key === "Escape") close();
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
  input.addEventListener("focus", () => input.value && run());
  document.addEventListener("keydown", (e) => {
    const target = e.target as HTMLElement;
    if (e.key === "/" && !["INPUT", "TEXTAREA"].includes(target.tagName)) (e.preventDefault(), input.focus(), input.select());
  });
}
