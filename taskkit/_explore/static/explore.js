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

// Placeholders of the list filters (any other list filter gets the generic one).
const HINTS = {
  project: "name or id, comma-separated",
  worker: "w-001, w-002",
  label: "bug, ui",
  kind: "Bug, Story",
  key: "PROJ-1, PROJ-2",
};
const SIZES = [10, 25, 50, 100, 250, 1000];

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

  // The navigation: one bar above the rows (it sticks to the top while the rows scroll by)
  // and the same bar below them, so a page taller than the screen never hides it.
  const bars = [];
  function makeBar(where) {
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
    const jumpInput = h("input", {
      type: "number", min: 1, class: "tk-jump-input", "data-action": "page-number",
      "aria-label": "page number", placeholder: "page",
    });
    const jump = h("form", { class: "tk-jump", onsubmit: (e) => {
        e.preventDefault();
        const number = parseInt(jumpInput.value, 10);
        if (number > 0) send({ action: "page", number });
      } },
      jumpInput, h("button", { type: "submit", "data-action": "page", title: "go to this page" }, "Go"));
    const sizeSelect = h("select", { class: "tk-size", "data-action": "size", "aria-label": "rows per page",
      onchange: (e) => send({ action: "size", size: parseInt(e.target.value, 10) }) });
    const bar = h("div", { class: "tk-bar tk-bar-" + where },
      h("span", { class: "tk-moves" }, ...Object.values(moves)),
      h("span", { class: "tk-where" }, position, total, busy),
      h("span", { class: "tk-page-tools" }, jump,
        h("label", { class: "tk-size-label" }, sizeSelect, " rows")));
    bars.push({ moves, position, total, busy, jumpInput, sizeSelect });
    return bar;
  }
  root.append(makeBar("top"));
  const topBar = root.lastElementChild;

  // Filters: what the kernel describes (select_tasks' own filters). Choices apply at once;
  // text, lists and dates on Enter or Apply.
  const inputs = {};
  const filterBox = h("form", { class: "tk-filters", onsubmit: (e) => { e.preventDefault(); apply(); } });
  const lists = new Set();
  function apply() {
    const filters = {};
    for (const [name, input] of Object.entries(inputs)) {
      if (Array.isArray(input)) {
        const picked = input.filter((box) => box.checked).map((box) => box.value);
        if (picked.length) filters[name] = picked;
      } else if (input.value.trim() !== "") {
        filters[name] = lists.has(name)
          ? input.value.split(",").map((v) => v.trim()).filter((v) => v)
          : input.value.trim();
      }
    }
    send({ action: "filter", filters });
  }
  function buildFilters() {
    filterBox.replaceChildren();
    const fields = h("div", { class: "tk-fields" });
    const text = (name, label, attrs = {}) => {
      inputs[name] = h("input", { type: "text", name, "data-filter": name, ...attrs });
      return h("label", { class: "tk-field" }, h("span", {}, label), inputs[name]);
    };
    const dates = [];
    for (const spec of model.get("filter_form")) {
      const [name] = spec.names;
      if (spec.form === "choice") {
        inputs[name] = spec.choices.map((value) =>
          h("input", { type: "checkbox", value, "data-filter": name, onchange: apply }),
        );
        filterBox.append(
          h("fieldset", {}, h("legend", {}, name),
            ...inputs[name].map((box) => h("label", {}, box, " " + box.value.replace("_", " ")))),
        );
      } else if (spec.form === "list") {
        lists.add(name);
        fields.append(text(name, name, { placeholder: HINTS[name] || "comma-separated" }));
      } else if (spec.form === "text") {
        fields.append(text(name, name, { placeholder: "title or description" }));
      } else if (spec.form === "range") {
        const stem = name.replace(/_from$/, "");
        dates.push(text(spec.names[0], stem + " from", { type: "date" }),
                   text(spec.names[1], stem + " before", { type: "date" }));
      }
    }
    fields.append(...dates,
      h("span", { class: "tk-actions" },
        h("button", { type: "submit", "data-action": "apply" }, "Apply"),
        h("button", { type: "button", "data-action": "clear", onclick: () => {
          for (const input of Object.values(inputs)) {
            if (Array.isArray(input)) input.forEach((box) => { box.checked = false; });
            else input.value = "";
          }
          apply();
        } }, "Clear")));
    filterBox.append(fields);
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
    // Open on the task view, where they are the way in; folded over a statement of the user's.
    // On a phone they fold too: open, they would fill the screen before the first row.
    const phone = window.matchMedia("(max-width: 600px)").matches;
    const open = Object.keys(model.get("filters")).length > 0 || (model.get("row_key") !== "" && !phone);
    root.append(h("details", { class: "tk-filter-box", open }, h("summary", {}, "Filters"), filterBox));
  }

  const remark = h("div", { class: "tk-remark" });
  const error = h("div", { class: "tk-error", role: "alert" });
  const notice = h("div", { class: "tk-notice" });
  const table = h("table", { class: "tk-table" });
  // A selected task's fields and history, in a row of its own just under the task's row.
  const detail = h("div", { class: "tk-detail", "aria-live": "polite" });
  const scroller = h("div", { class: "tk-scroll" }, table);
  root.append(remark, error, notice, scroller);
  root.append(makeBar("bottom"));
  const bottomBar = root.lastElementChild;

  const sql = h("pre", { class: "tk-sql-text" });
  const sqlNote = h("p", { class: "tk-sql-note" });
  const plan = h("pre", { class: "tk-plan" });
  const code = h("code", { class: "tk-code" });
  root.append(
    h("details", { class: "tk-sql", ontoggle: (e) => {
        model.set("sql_open", e.target.open);
        model.save_changes();
      } },
      h("summary", {}, "SQL of this page, and the code of this view"),
      h("div", { class: "tk-code-line" }, h("span", {}, "stmt = "), code),
      sqlNote,
      sql,
      h("button", { type: "button", "data-action": "plan", onclick: () => send({ action: "plan" }) },
        "Show the plan (EXPLAIN)"),
      plan),
  );

  // Column widths the user dragged, by column name; kept while the columns stay the same.
  let widths = {};
  let widthsFor = "";
  function startResize(e, th, name) {
    e.preventDefault();
    e.stopPropagation();
    const ths = [...table.querySelectorAll("thead th")];
    // From the first drag on, every column has a width of its own (fixed layout).
    if (!table.classList.contains("tk-fixed")) {
      ths.forEach((cell) => { widths[cell.dataset.column] = cell.getBoundingClientRect().width; });
      applyWidths();
    }
    const startX = e.clientX;
    const start = widths[name];
    const move = (ev) => {
      widths[name] = Math.max(40, start + ev.clientX - startX);
      applyWidths();
    };
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }
  function applyWidths() {
    const cols = table.querySelectorAll("col");
    const columns = model.get("columns");
    if (!Object.keys(widths).length) {
      table.classList.remove("tk-fixed");
      table.style.width = "";
      return;
    }
    let sum = 0;
    cols.forEach((col, i) => {
      const w = widths[columns[i]] || 120;
      col.style.width = w + "px";
      sum += w;
    });
    table.classList.add("tk-fixed");
    table.style.width = sum + "px";
  }

  let selected = null;
  function drawTable() {
    const columns = model.get("columns");
    const headers = model.get("headers");
    const sortable = new Set(model.get("sortable"));
    const order = model.get("order");
    const key = order.replace(/^-/, "");
    const rowKey = model.get("row_key");
    if (widthsFor !== columns.join("\u0000")) {
      widths = {};
      widthsFor = columns.join("\u0000");
    }
    const head = h("tr", {}, ...columns.map((name, i) => {
      const mark = name === key ? (order.startsWith("-") ? " \u25BC" : " \u25B2") : "";
      const can = sortable.has(name);
      const th = h("th", {
        "data-column": name,
        class: can ? "tk-sortable" : null,
        title: can ? "sort by " + name + (name === key ? " (click again to reverse)" : "") : null,
        "aria-sort": name === key ? (order.startsWith("-") ? "descending" : "ascending") : null,
        onclick: can ? () => send({ action: "sort", column: name }) : null,
      }, h("span", { class: "tk-head" }, headers[i] + mark));
      th.append(h("span", { class: "tk-resize", title: "drag to resize",
        onpointerdown: (e) => startResize(e, th, name), onclick: (e) => e.stopPropagation() }));
      return th;
    }));
    const rows = model.get("rows");
    const at = rowKey ? columns.indexOf(rowKey) : -1;
    const body = rows.length
      ? rows.map((row) => {
          const id = at >= 0 ? row[at] : null;
          const tr = h("tr", at >= 0 ? {
            class: "tk-selectable" + (id === selected ? " tk-selected" : ""),
            "data-id": id,
            title: "show this task's history",
            onclick: () => {
              selected = selected === id ? null : id;
              table.querySelectorAll("tr.tk-selected").forEach((r) => r.classList.remove("tk-selected"));
              if (selected !== null) tr.classList.add("tk-selected");
              send({ action: "select", id: selected });
            },
          } : {}, ...row.map((value, i) =>
            value === null
              ? h("td", { class: "tk-null", "data-column": columns[i] }, "NULL")
              : h("td", { title: value.length > 24 ? value : null, "data-column": columns[i] }, value)));
          return tr;
        })
      : [h("tr", {}, h("td", { colspan: columns.length, class: "tk-empty" }, "no rows match"))];
    table.replaceChildren(
      h("colgroup", {}, ...columns.map(() => h("col"))),
      h("thead", {}, head), h("tbody", {}, ...body));
    applyWidths();
    placeDetail();
  }

  function placeDetail() {
    table.querySelectorAll("tr.tk-detail-row").forEach((r) => r.remove());
    const task = model.get("detail");
    if (!task || task.id == null) return;
    const row = [...table.querySelectorAll("tbody tr[data-id]")].find((r) => r.dataset.id === String(task.id));
    if (!row) return;
    // As wide as the visible part of the table, and kept there when it scrolls sideways.
    detail.style.width = Math.max(200, scroller.clientWidth - 20) + "px";
    row.after(h("tr", { class: "tk-detail-row" },
      h("td", { colspan: model.get("columns").length }, detail)));
  }

  function drawBar() {
    const isBusy = pending > 0;
    const n = model.get("total");
    const size = model.get("size");
    const pages = n >= 0 ? Math.max(1, Math.ceil(n / size)) : null;
    for (const bar of bars) {
      bar.moves.first.disabled = isBusy || !model.get("has_prev");
      bar.moves.prev.disabled = isBusy || !model.get("has_prev");
      bar.moves.next.disabled = isBusy || !model.get("has_next");
      bar.moves.last.disabled = isBusy || !model.get("has_next");
      bar.position.textContent = model.get("position");
      const span = model.get("span");
      bar.total.textContent =
        (span ? "rows " + span + (n >= 0 ? " of " : ", ") : "") + (
        n === -2 ? "rows not counted" :
        n < 0 ? "counting rows\u2026" : fmt(n) + (span ? "" : n === 1 ? " row" : " rows"));
      bar.busy.textContent = isBusy ? "loading\u2026" : "";
      if (pages !== null) bar.jumpInput.max = pages;
      const options = [...new Set([...SIZES, size])].sort((a, b) => a - b);
      if (bar.sizeSelect.options.length !== options.length || +bar.sizeSelect.value !== size) {
        bar.sizeSelect.replaceChildren(...options.map((s) => h("option", { value: s, selected: s === size }, String(s))));
      }
    }
    root.classList.toggle("tk-is-busy", isBusy);
  }

  function drawDetail() {
    const task = model.get("detail");
    if (!task || task.id == null) {
      detail.replaceChildren();
      placeDetail();
      selected = null;
      table.querySelectorAll("tr.tk-selected").forEach((r) => r.classList.remove("tk-selected"));
      return;
    }
    const facts = [
      ["status", task.status + (task.resolution ? " (" + task.resolution.replace("_", " ") + ")" : "")],
      ["project", task.project],
      ["labels", task.labels.length ? task.labels.join(", ") : null],
      ["workers", task.workers.length ? task.workers.join(", ") : null],
    ];
    const history = task.history.length
      ? h("table", { class: "tk-history" },
          h("thead", {}, h("tr", {}, ...["from", "to", "when (UTC)", "source"].map((t) => h("th", {}, t)))),
          h("tbody", {}, ...task.history.map((change) => h("tr", {}, ...change.map((v, i) =>
            h("td", { class: v === null ? "tk-null" : null }, v === null ? (i === 0 ? "(created)" : "NULL") : v))))))
      : h("p", { class: "tk-muted" }, "No status change recorded.");
    detail.replaceChildren(
      h("div", { class: "tk-detail-head" },
        h("b", {}, "Task " + task.id + ": "), task.title,
        h("button", { type: "button", class: "tk-close", "data-action": "close", title: "close",
          onclick: () => { selected = null; drawTable(); send({ action: "select", id: null }); } }, "\u00D7")),
      h("dl", {}, ...facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", { class: v == null ? "tk-null" : null }, v == null ? "none" : v)])),
      h("div", { class: "tk-history-title" }, "Status history"),
      history,
    );
    placeDetail();
  }

  function drawText() {
    remark.textContent = model.get("remark");
    remark.hidden = !model.get("remark");
    error.textContent = model.get("error");
    error.hidden = !model.get("error");
    const n = model.get("notice");
    notice.textContent = n === "\u2026" ? "" : n;
    notice.hidden = !notice.textContent;
    sql.textContent = model.get("sql");
    sqlNote.textContent = model.get("sql_note");
    sqlNote.hidden = !model.get("sql_note");
    plan.textContent = model.get("plan");
    plan.hidden = !model.get("plan");
    code.textContent = model.get("code_text");
  }

  drawTable();
  drawBar();
  drawText();
  drawDetail();
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
  on(["answered", "has_prev", "has_next", "position", "span", "total", "size"], drawBar);
  on(["error", "notice", "sql", "sql_note", "plan", "code_text", "remark"], drawText);
  on(["detail"], drawDetail);
  if (model.get("filterable")) on(["filters"], showFilters);
  // The top bar follows the view down a page taller than the screen. CSS sticky cannot:
  // JupyterLab's output area is a scroll container (overflow: auto) of exactly the grid's
  // height, so the bar is moved by hand within the grid, on any scroll that moves the grid.
  let frame = 0;
  const follow = (event) => {
    const scrolled = event && event.target;
    if (frame || !(scrolled === document || (scrolled instanceof Element && scrolled.contains(root)))) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      const view = scrolled instanceof Element
        ? scrolled.getBoundingClientRect() : { top: 0, bottom: window.innerHeight };
      const box = root.getBoundingClientRect();
      const below = bottomBar.getBoundingClientRect();
      // Not while the bar below the rows is in view: one bar is enough.
      const shift = below.top < view.bottom && below.bottom > view.top ? 0
        : Math.max(0, Math.min(view.top - box.top, below.top - box.top - topBar.offsetHeight));
      topBar.style.transform = shift > 0 ? `translateY(${shift}px)` : "";
      topBar.classList.toggle("tk-floating", shift > 0);
    });
  };
  document.addEventListener("scroll", follow, { capture: true, passive: true });
  return () => {
    document.removeEventListener("scroll", follow, { capture: true });
    root.remove();
  };
}

export default { render };
