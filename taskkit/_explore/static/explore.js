// taskkit.explore: the browser side. It draws what the kernel puts in the model's traits and
// sends requests (model.send) for pages, sorts and filters; it never holds more than a page.

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value !== false && value != null) el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child != null) el.append(child);
  return el;
}

function fmt(n) {
  return n.toLocaleString("en-US");
}

// The kernel shows a static copy of the first page as the output just before the grid (for
// nbconvert, GitHub and nbviewer, where no grid runs). Where the grid is drawn, hide that copy:
// walk up from the grid to the level where the outputs are siblings.
function hideStaticCopy(el, id) {
  if (!id) return true;
  const selector = `.taskkit-explore-static[data-copy="${CSS.escape(id)}"]`;
  let node = el;
  for (let depth = 0; node && depth < 12; depth += 1, node = node.parentElement) {
    const before = node.previousElementSibling;
    if (before && (before.matches(selector) || before.querySelector(selector))) {
      before.style.display = "none";
      return true;
    }
  }
  return false;
}

function render({ model, el }) {
  const root = h("div", { class: "tk-explore" });
  el.append(root);
  // The view may be attached to the page a moment after render: try again briefly.
  const hide = (tries) => {
    if (!hideStaticCopy(el, model.get("copy_id")) && tries > 0) setTimeout(() => hide(tries - 1), 100);
  };
  hide(20);

  // "loading" shows from a click until the kernel's answer (one message: rows, position,
  // SQL and the count of answers) arrives; the kernel sends nothing before it.
  let pending = 0;
  const send = (msg) => {
    pending += 1;
    drawBar();
    model.send(msg);
  };
  const button = (action, label, title) =>
    h("button", { type: "button", "data-action": action, title, onclick: () => send({ action }) }, label);
  const moves = {
    first: button("first", "\u00AB First", "first page"),
    prev: button("prev", "\u2039 Prev", "previous page"),
    next: button("next", "Next \u203A", "next page"),
    last: button("last", "Last \u00BB", "last page (read backwards, not skipped to)"),
  };
  const position = h("span", { class: "tk-position" });
  const total = h("span", { class: "tk-total" });
  const busy = h("span", { class: "tk-busy", "aria-live": "polite" });
  root.append(h("div", { class: "tk-bar" }, ...Object.values(moves), position, total, busy));

  // Filters: the task view only. Checkboxes apply at once; text and dates on Enter or Apply.
  const inputs = {};
  const filterBox = h("form", { class: "tk-filters", onsubmit: (e) => { e.preventDefault(); apply(); } });
  function apply() {
    const filters = {};
    for (const [name, input] of Object.entries(inputs)) {
      if (Array.isArray(input)) {
        const picked = input.filter((box) => box.checked).map((box) => box.value);
        if (picked.length) filters[name] = picked;
      } else if (input.value.trim() !== "") {
        filters[name] = ["project", "worker"].includes(name)
          ? input.value.split(",").map((v) => v.trim()).filter((v) => v)
          : input.value.trim();
      }
    }
    send({ action: "filter", filters });
  }
  function buildFilters() {
    filterBox.replaceChildren();
    const choices = model.get("choices");
    for (const name of ["status", "priority"]) {
      inputs[name] = (choices[name] || []).map((value) =>
        h("input", { type: "checkbox", value, "data-filter": name, onchange: apply }),
      );
      filterBox.append(
        h("fieldset", {}, h("legend", {}, name),
          ...inputs[name].map((box) => h("label", {}, box, " " + box.value.replace("_", " ")))),
      );
    }
    const text = (name, label, attrs = {}) => {
      inputs[name] = h("input", { type: "text", name, "data-filter": name, ...attrs });
      return h("label", { class: "tk-field" }, h("span", {}, label), inputs[name]);
    };
    const date = (name, label) => text(name, label, { type: "date" });
    filterBox.append(
      h("div", { class: "tk-fields" },
        text("search", "search", { placeholder: "title or description" }),
        text("project", "project", { placeholder: "name or id, comma-separated" }),
        text("worker", "worker", { placeholder: "w-001, w-002" }),
        date("created_from", "created from"), date("created_to", "created before"),
        date("completed_from", "completed from"), date("completed_to", "completed before"),
        h("span", { class: "tk-actions" },
          h("button", { type: "submit", "data-action": "apply" }, "Apply"),
          h("button", { type: "button", "data-action": "clear", onclick: () => {
            for (const input of Object.values(inputs)) {
              if (Array.isArray(input)) input.forEach((box) => { box.checked = false; });
              else input.value = "";
            }
            apply();
          } }, "Clear"))),
    );
  }
  function showFilters() {
    const filters = model.get("filters");
    for (const [name, input] of Object.entries(inputs)) {
      const value = filters[name];
      if (Array.isArray(input)) {
        const on = new Set(value || []);
        input.forEach((box) => { box.checked = on.has(box.value); });
      } else if (document.activeElement !== input) {
        input.value = value == null ? "" : Array.isArray(value) ? value.join(", ") : String(value);
      }
    }
  }
  if (model.get("filterable")) {
    buildFilters();
    root.append(h("details", { class: "tk-filter-box", open: true }, h("summary", {}, "Filters"), filterBox));
  }

  const error = h("div", { class: "tk-error", role: "alert" });
  const notice = h("div", { class: "tk-notice" });
  const table = h("table", { class: "tk-table" });
  root.append(error, notice, h("div", { class: "tk-scroll" }, table));

  const sql = h("pre", { class: "tk-sql-text" });
  const plan = h("pre", { class: "tk-plan" });
  const code = h("code", { class: "tk-code" });
  root.append(
    h("details", { class: "tk-sql", ontoggle: (e) => {
        model.set("sql_open", e.target.open);
        model.save_changes();
      } },
      h("summary", {}, "SQL of this page, and the code of this view"),
      h("div", { class: "tk-code-line" }, h("span", {}, "stmt = "), code),
      sql,
      h("button", { type: "button", "data-action": "plan", onclick: () => send({ action: "plan" }) },
        "Show the plan (EXPLAIN)"),
      plan),
  );

  function drawTable() {
    const columns = model.get("columns");
    const headers = model.get("headers");
    const sortable = new Set(model.get("sortable"));
    const order = model.get("order");
    const key = order.replace(/^-/, "");
    const head = h("tr", {}, ...columns.map((name, i) => {
      const mark = name === key ? (order.startsWith("-") ? " \u25BC" : " \u25B2") : "";
      const can = sortable.has(name);
      return h("th", {
        "data-column": name,
        class: can ? "tk-sortable" : null,
        title: can ? "sort by " + name + (name === key ? " (click again to reverse)" : "") : null,
        "aria-sort": name === key ? (order.startsWith("-") ? "descending" : "ascending") : null,
        onclick: can ? () => send({ action: "sort", column: name }) : null,
      }, headers[i] + mark);
    }));
    const rows = model.get("rows");
    const body = rows.length
      ? rows.map((row) => h("tr", {}, ...row.map((value, i) =>
          value === null
            ? h("td", { class: "tk-null", "data-column": columns[i] }, "NULL")
            : h("td", { title: value.length > 24 ? value : null, "data-column": columns[i] }, value))))
      : [h("tr", {}, h("td", { colspan: columns.length, class: "tk-empty" }, "no rows match"))];
    table.replaceChildren(h("thead", {}, head), h("tbody", {}, ...body));
  }

  function drawBar() {
    const isBusy = pending > 0;
    moves.first.disabled = isBusy || !model.get("has_prev");
    moves.prev.disabled = isBusy || !model.get("has_prev");
    moves.next.disabled = isBusy || !model.get("has_next");
    moves.last.disabled = isBusy || !model.get("has_next");
    position.textContent = model.get("position");
    const n = model.get("total");
    total.textContent =
      n === -2 ? "rows not counted" :
      n < 0 ? "counting rows\u2026" : fmt(n) + (n === 1 ? " row" : " rows");
    busy.textContent = isBusy ? "loading\u2026" : "";
    root.classList.toggle("tk-is-busy", isBusy);
  }

  function drawText() {
    error.textContent = model.get("error");
    error.hidden = !model.get("error");
    const n = model.get("notice");
    notice.textContent = n === "\u2026" ? "" : n;
    notice.hidden = !notice.textContent;
    sql.textContent = model.get("sql");
    plan.textContent = model.get("plan");
    plan.hidden = !model.get("plan");
    code.textContent = model.get("code_text");
  }

  drawTable();
  drawBar();
  drawText();
  if (model.get("filterable")) showFilters();
  // One answer changes several traits at once: each part is drawn once, after all of them.
  const dirty = new Set();
  const later = (fn) => () => {
    if (dirty.size === 0) queueMicrotask(() => { const fns = [...dirty]; dirty.clear(); fns.forEach((f) => f()); });
    dirty.add(fn);
  };
  const on = (names, fn) => names.forEach((name) => model.on("change:" + name, later(fn)));
  model.on("change:answered", () => { pending = Math.max(0, pending - 1); });
  on(["rows", "columns", "headers", "order", "sortable"], drawTable);
  on(["answered", "has_prev", "has_next", "position", "total"], drawBar);
  on(["error", "notice", "sql", "plan", "code_text"], drawText);
  if (model.get("filterable")) on(["filters"], showFilters);
  return () => root.remove();
}

export default { render };
