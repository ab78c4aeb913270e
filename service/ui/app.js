/* tlprobe dashboard: one static page calling the API (no build step, no external resources).
 *
 * Views (hash routes): #/ the catalogue of phase diagrams, #/diagrams/ID a diagram, #/new a learning-curve
 * form built from the OpenAPI schema (so every default shown is the service's own), #/jobs the jobs this
 * browser submitted or followed, #/jobs/ID one job. Job ids are capabilities the service never lists, so
 * the page remembers the ones it knows in localStorage. A token, when the service asks for one, is kept
 * in sessionStorage (this tab only) and sent as a bearer token with every call.
 */
"use strict";

const TERMINAL = new Set(["finished", "failed", "canceled"]);
const TOKEN_KEY = "tlprobe.token";
const JOBS_KEY = "tlprobe.jobs";
const MAX_JOBS = 40;
const PAGE = 24;

// ---------------------------------------------------------------- DOM helpers
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

function fmt(value, digits = 4) {
  if (value === null || value === undefined) return "-";
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    return Math.abs(value) >= 1e-4 || value === 0 ? value.toFixed(digits) : value.toExponential(2);
  }
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}

/** A value as the user wrote it, within six significant digits (0.1 + 0.2 shows as 0.3). */
function num(value) { return String(Number(value.toPrecision(6))); }

/** An axis's values: all of them when few, else the range with the whole list folded away. */
const AXIS_VALUES_SHOWN = 12;
function axisValues(values) {
  if (values.length <= AXIS_VALUES_SHOWN) return values.map(num).join(", ");
  return h("details", { class: "values" },
    h("summary", { text: `${values.length} values from ${num(values[0])} to ${num(values[values.length - 1])}` }),
    values.map(num).join(", "));
}

function short(id) { return id.length > 18 ? id.slice(0, 17) + "\u2026" : id; }

function table(header, rows, numeric = []) {
  return h("table", {},
    h("thead", {}, h("tr", {}, header.map((name) => h("th", { text: name })))),
    h("tbody", {}, rows.map((row) => h("tr", {}, row.map((cell, i) =>
      h("td", { class: numeric[i] ? "num" : null, text: typeof cell === "string" ? cell : fmt(cell) }))))));
}

// ---------------------------------------------------------------- the API
class AuthError extends Error {}
class ApiError extends Error {
  constructor(status, detail) {
    super(Array.isArray(detail) ? detail.map((e) => `${(e.loc || []).join(".")}: ${e.msg}`).join("\n") : String(detail));
    this.status = status;
    this.detail = detail;
  }
}

const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

async function api(path, { method = "GET", body, as = "json", accept = [] } = {}) {
  const headers = { accept: as === "json" ? "application/json" : "*/*" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token.get()) headers.authorization = `Bearer ${token.get()}`;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401) {
    const detail = (await response.json().catch(() => ({}))).detail;
    throw new AuthError(detail || "a bearer token is required");
  }
  if (!response.ok && !accept.includes(response.status)) {
    const text = await response.text();
    let detail = text;
    try { detail = JSON.parse(text).detail ?? text; } catch (_) { /* not JSON */ }
    throw new ApiError(response.status, detail);
  }
  if (as === "blob") return response.blob();
  if (as === "response") return response;
  return response.json();
}

/** An image from the API, fetched with the token (an <img src> could not send it). */
function apiImage(path, alt, className) {
  const img = h("img", { alt, class: className });
  img.addEventListener("load", () => URL.revokeObjectURL(img.src));  // drawn: the blob is no longer needed
  api(path, { as: "blob" }).then((blob) => { img.src = URL.createObjectURL(blob); })
    .catch((error) => { img.replaceWith(h("p", { class: "error", text: `${alt}: ${error.message}` })); });
  return img;
}

/** A download link that works with a token too (fetched, then saved). */
function download(path, label, filename) {
  return h("a", {
    href: path, download: filename, text: label,
    onclick: async (event) => {
      if (!token.get()) return;  // a plain link is enough
      event.preventDefault();
      const url = URL.createObjectURL(await api(path, { as: "blob" }));
      h("a", { href: url, download: filename }).click();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    },
  });
}

let schemaPromise = null;
function openapi() {
  schemaPromise = schemaPromise || fetch("/openapi.json").then((r) => r.json());
  return schemaPromise;
}

function resolve(spec, schema) {
  while (schema && schema.$ref) schema = spec.components.schemas[schema.$ref.split("/").pop()];
  return schema || {};
}

// ---------------------------------------------------------------- jobs this browser knows
const jobs = {
  list: () => JSON.parse(localStorage.getItem(JOBS_KEY) || "[]"),
  remember(entry) {
    const others = jobs.list().filter((job) => job.id !== entry.id);
    localStorage.setItem(JOBS_KEY, JSON.stringify([{ at: new Date().toISOString(), ...entry }, ...others].slice(0, MAX_JOBS)));
  },
  forget(id) { localStorage.setItem(JOBS_KEY, JSON.stringify(jobs.list().filter((job) => job.id !== id))); },
};
const latest = new Map();     // job id -> last view seen
const watchers = new Map();   // job id -> Set of callbacks(view)
const following = new Set();

function watch(id, callback) {
  if (!watchers.has(id)) watchers.set(id, new Set());
  watchers.get(id).add(callback);
  if (latest.has(id)) callback(latest.get(id));
  follow(id);
}

function publish(id, view) {
  latest.set(id, view);
  for (const callback of watchers.get(id) || []) callback(view);
}

/** Long-poll a job (?wait=1: an answer as soon as it ends, else every second) until it ends. */
async function follow(id) {
  if (following.has(id) || TERMINAL.has(latest.get(id)?.status)) return;
  following.add(id);
  try {
    for (;;) {
      const view = await api(`/v1/jobs/${encodeURIComponent(id)}?wait=1`);
      publish(id, view);
      if (TERMINAL.has(view.status)) break;
    }
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) publish(id, { job_id: id, status: "expired", error: "no such job (expired?)" });
    else if (error instanceof AuthError) publish(id, { job_id: id, status: "unknown", error: error.message });
    else publish(id, { job_id: id, status: "unknown", error: error.message });
  } finally {
    following.delete(id);
  }
}

function progressText(view) {
  if (view.progress) return `${view.progress.stage} ${view.progress.done}/${view.progress.total}`;
  if (view.status === "queued") return "waiting for a worker";
  return view.error || "";
}

/** One job: id, status, stage and a bar, updated live. */
function jobRow(entry, { onFinished } = {}) {
  const status = h("span", { class: "status", text: "..." });
  const fill = h("div", { class: "fill" });
  const stage = h("span", { class: "stage" });
  const row = h("div", { class: "job", "data-job": entry.id },
    h("div", {}, h("a", { class: "id", href: `#/jobs/${entry.id}`, text: entry.id, title: entry.id }),
      entry.label ? h("div", { class: "muted", text: entry.label }) : null),
    status,
    h("div", { class: "progress" }, h("div", { class: "bar" }, fill), stage));
  let done = false;
  watch(entry.id, (view) => {
    status.textContent = view.status;
    status.className = `status ${view.status}`;
    stage.textContent = progressText(view);
    const p = view.progress;
    fill.style.width = view.status === "finished" ? "100%" : p && p.total ? `${(100 * p.done) / p.total}%` : "0%";
    if (view.status === "finished" && !done && onFinished) { done = true; onFinished(view); }
  });
  return row;
}

// ---------------------------------------------------------------- results
function learningCurveTable(result) {
  const rows = [];
  for (const [protocol, curve] of Object.entries(result.curves)) {
    result.alphas.forEach((alpha, i) => rows.push([protocol, String(alpha),
      curve.theory ? curve.theory.test_error[i] : null,
      curve.simulation ? curve.simulation.test_error_mean[i] : null,
      curve.simulation ? curve.simulation.test_error_sem[i] : null]));
  }
  return table(["protocol", "alpha", "theory", "simulation", "\u00b1 sem"], rows, [false, true, true, true, true]);
}

async function showResult(container, id) {
  const result = await api(`/v1/jobs/${encodeURIComponent(id)}/result`);
  container.replaceChildren();
  if (result.kind === "learning_curve") {
    container.append(
      apiImage(`/v1/jobs/${encodeURIComponent(id)}/plot.png`, "learning curve", "picture result-plot"),
      h("p", { class: "muted", text: `source network: test error ${fmt(result.source_test_error)}` }),
      learningCurveTable(result),
      h("div", { class: "links" }, download(`/v1/jobs/${id}/result`, "JSON", `${id}.json`),
        download(`/v1/jobs/${id}/plot.png`, "PNG", `${id}.png`)));
  } else if (result.kind === "phase_diagram") {
    container.append(h("p", {}, h("a", { href: `#/diagrams/${id}`, text: "Open the phase diagram" })));
  } else if (result.kind === "diagram_tile") {  // a part of a large diagram: its curves are learning curves
    const computed = result.curves.filter((curve) => curve.computed).length;
    container.append(h("p", { class: "muted", text: `${result.curves.length} learning curves of a phase diagram, ` +
        `${computed} computed by this tile (the others were stored already)` }),
      h("div", { class: "scroll" }, h("table", {},
        h("thead", {}, h("tr", {}, ["learning curve", "computed", "error"].map((name) => h("th", { text: name })))),
        h("tbody", {}, result.curves.map((curve) => h("tr", {},
          h("td", {}, h("a", { href: `#/jobs/${curve.job_id}`, text: curve.job_id })),
          h("td", { text: fmt(curve.computed) }), h("td", { text: curve.error || "" })))))));
  } else if (result.kind === "gcm") {
    container.append(table(["alpha = n/p", "lambda", "test error", "status"],
      result.sample_complexity.map((a, i) => [a, result.regularisation[i], result.test_error[i], result.status[i]]),
      [true, true, true, false]));
  } else {
    container.append(h("pre", { text: JSON.stringify(result, null, 1) }));
  }
}

// ---------------------------------------------------------------- views
async function viewCatalogue(page) {
  const spec = await openapi();
  const parameters = spec.paths["/v1/phase-diagrams"].get.parameters.filter((p) => !["offset", "limit"].includes(p.name));
  const query = new URLSearchParams(location.hash.split("?")[1] || "");
  const inputs = {};
  const filters = h("form", { class: "filters", onsubmit: (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [name, input] of Object.entries(inputs)) {
      for (const value of name === "range" ? input.value.split(/\s+/) : [input.value]) if (value) next.append(name, value);
    }
    location.hash = `#/?${next}`;
  } });
  for (const parameter of parameters) {
    const schema = resolve(spec, (parameter.schema.oneOf || parameter.schema.anyOf || [parameter.schema]).find((s) => s.type !== "null"));
    let input;
    if (schema.enum || schema.type === "boolean") {
      const options = schema.enum || ["true", "false"];
      input = h("select", { name: parameter.name }, h("option", { value: "", text: "any" }),
        options.map((value) => h("option", { value, text: value, selected: query.get(parameter.name) === String(value) })));
    } else {
      input = h("input", { name: parameter.name, value: query.getAll(parameter.name).join(" "),
        placeholder: "path:min:max", title: parameter.description || "" });
    }
    inputs[parameter.name] = input;
    filters.append(h("label", { title: parameter.description || "" }, parameter.name.replace("_", " "), input));
  }
  filters.append(h("button", { type: "submit", text: "Filter" }));
  const cards = h("div", { class: "cards" });
  const more = h("div");
  page.append(h("h1", { text: "Computed phase diagrams" }), filters, cards, more);

  async function load(offset) {
    const params = new URLSearchParams(query);
    params.set("offset", offset);
    params.set("limit", PAGE);
    const listing = await api(`/v1/phase-diagrams?${params}`);
    cards.append(...listing.items.map(card));
    more.replaceChildren();
    if (!listing.total) more.append(h("p", { class: "muted", text: "No phase diagram matches. Compute one with POST /v1/phase-diagrams (or tlprobe submit phase-diagram)." }));
    else more.append(h("p", { class: "muted", text: `${Math.min(offset + PAGE, listing.total)} of ${listing.total} diagram${listing.total === 1 ? "" : "s"}` }));
    if (offset + PAGE < listing.total) more.append(h("button", { class: "secondary", text: "More", onclick: () => load(offset + PAGE) }));
  }
  await load(0);
}

function keyParameters(parameters, axes) {
  const p = parameters;
  // on datasets the source and target are their ids; a parameter on an axis has no fixed value
  const sizes = p["source.dataset"] ? [`data ${p["source.dataset"].slice(0, 11)} \u2192 ${p["target.dataset"].slice(0, 11)}`]
    : [`D=${p["source.latent_dim"]}`, `N=${p["source.input_dim"]}`];
  const network = [["K", "network.hidden_units"], ["n_s", "network.n_samples"]]
    .filter(([, path]) => p[path] !== undefined).map(([symbol, path]) => `${symbol}=${p[path]}`);
  const parts = [[...sizes, ...network].join(" "), `${p["readout.loss"]} lambda=${p["readout.regularisation"]}`];
  const knobs = ["feature_noise", "teacher_noise", "feature_substitution", "latent_change"]
    .filter((knob) => !axes.includes(knob) && p[`target.${knob}`]).map((knob) => `${knob}=${p[`target.${knob}`]}`);
  if (!axes.includes("alpha")) knobs.push(`alpha=${p.alpha}`);
  return [...parts, ...knobs].join(" \u00b7 ");
}

function card(entry) {
  const axes = [entry.x_axis, entry.y_axis];
  return h("a", { class: "card", href: `#/diagrams/${entry.diagram_id}`, "data-diagram": entry.diagram_id },
    apiImage(entry.links.png, `phase diagram ${entry.diagram_id}`, "thumb"),
    h("div", { class: "body" },
      h("div", { class: "title", text: `${entry.y_axis} \u00d7 ${entry.x_axis}` }),
      h("div", { class: "chips" },
        h("span", { class: "chip", text: `${entry.y_values.length}\u00d7${entry.x_values.length} cells` }),
        h("span", { class: "chip", text: `baseline ${entry.baseline}` }),
        h("span", { class: "chip", text: entry.protocols.join(" ") }),
        h("span", { class: entry.complete ? "chip good" : "chip bad", text: entry.complete ? "complete" : "incomplete" })),
      h("div", { class: "params", text: keyParameters(entry.parameters, axes) }),
      h("div", { class: "muted", text: new Date(entry.computed_at).toLocaleString() })));
}

function flatten(object, prefix = "") {
  const flat = [];
  for (const [key, value] of Object.entries(object)) {
    if (value && typeof value === "object" && !Array.isArray(value)) flat.push(...flatten(value, `${prefix}${key}.`));
    else flat.push([`${prefix}${key}`, value === null ? "null" : Array.isArray(value) ? value.join(", ") : String(value)]);
  }
  return flat;
}

async function viewDiagram(page, id) {
  const path = `/v1/phase-diagrams/${encodeURIComponent(id)}`;
  const response = await api(path, { as: "response", accept: [409] });
  const body = await response.json();
  page.append(h("h1", { text: `Phase diagram ${short(id)}` }));
  if (response.status === 409) {  // not finished: follow it here
    jobs.remember({ id, kind: "phase_diagram", label: "phase diagram" });
    page.append(jobRow({ id }, { onFinished: () => route() }));
    return;
  }
  const result = body;
  const x = result.x_axis, y = result.y_axis;
  const boundary = result.boundary.map((row) => [num(row.y), row.crossings.length ? row.crossings.map((c) => fmt(c, 3)).join(", ") : "none"]);
  const crossing = result.boundary.filter((row) => row.crossings.length).length;
  const request = result.meta.request || {};
  const fixed = Object.fromEntries(Object.entries(request).filter(([key]) => !["x_axis", "y_axis"].includes(key)));
  page.append(h("div", { class: "split" },
    h("div", {},
      apiImage(`${path}.png`, `phase diagram ${id}`, "picture diagram-picture"),
      h("div", { class: "links" },
        download(`${path}?format=csv`, "CSV", `${id}.csv`), download(`${path}.png`, "PNG", `${id}.png`),
        download(`${path}.svg`, "SVG", `${id}.svg`), download(path, "JSON", `${id}.json`)),
      h("p", { class: "muted", text: `gain = error(${result.baseline}) - error(tf), on ${result.gain_basis}; positive where transfer pays.` +
        (result.complete ? "" : ` ${result.failures.length} cells failed: resubmit the request to recompute them.`) })),
    h("div", { class: "panel" },
      h("h2", { text: "Axes" }),
      h("table", { class: "axes" },
        h("thead", {}, h("tr", {}, ["axis", "name", "values"].map((name) => h("th", { text: name })))),
        h("tbody", {}, [["x", x], ["y", y]].map(([which, axis]) =>
          h("tr", {}, h("td", { text: which }), h("td", { text: axis.name }), h("td", {}, axisValues(axis.values)))))),
      h("h2", { text: "Boundary (gain = 0)" }),
      h("p", { class: "muted", text: `${x.name} where the gain changes sign, per ${y.name}` +
        (boundary.length > AXIS_VALUES_SHOWN ? ` (${crossing} of ${boundary.length} rows cross)` : "") }),
      h("div", { class: "boundary scroll" }, table([y.name, `${x.name} crossings`], boundary)),
      h("h2", { text: "Parameters" }),
      table(["parameter", "value"], flatten(fixed)))));
}

async function viewJobs(page) {
  const known = jobs.list();
  const input = h("input", { placeholder: "a job id (lc-..., gcm-..., pd-...)", size: 50 });
  page.append(h("h1", { text: "Recent and running jobs" }),
    h("p", { class: "muted", text: "The jobs this browser submitted or followed (the service never lists job ids: an id is the key to its job)." }),
    h("form", { class: "filters", onsubmit: (event) => {
      event.preventDefault();
      if (input.value.trim()) { jobs.remember({ id: input.value.trim(), kind: input.value.split("-")[0] }); route(); }
    } }, input, h("button", { type: "submit", text: "Follow" })));
  if (!known.length) page.append(h("p", { class: "muted", text: "None yet: submit a learning curve from the form." }));
  const list = h("div", { class: "panel jobs" }, known.map((entry) => jobRow(entry)));
  if (known.length) page.append(list);
}

async function viewJob(page, id) {
  const result = h("div", { class: "result" });
  page.append(h("h1", { text: `Job ${short(id)}` }), h("div", { class: "panel" }, jobRow({ id })), result);
  watch(id, (view) => {
    if (view.status === "finished" && !result.dataset.shown) {
      result.dataset.shown = "1";
      showResult(result, id).catch((error) => result.replaceChildren(h("p", { class: "error", text: error.message })));
    }
  });
}

// ---------------------------------------------------------------- the learning-curve form
/** The schema's variants of a field: [{type, ...}], without null; and whether null is allowed. */
function variants(spec, schema) {
  const options = (schema.oneOf || schema.anyOf || [schema]).map((s) => resolve(spec, s));
  return { nullable: options.some((s) => s.type === "null"), options: options.filter((s) => s.type !== "null") };
}

function bounds(schema) {
  const low = schema.minimum ?? schema.exclusiveMinimum, high = schema.maximum ?? schema.exclusiveMaximum;
  if (low === undefined && high === undefined) return "";
  const open = schema.exclusiveMinimum !== undefined ? "(" : "[", close = schema.exclusiveMaximum !== undefined ? ")" : "]";
  return `${open}${low ?? "-inf"}, ${high ?? "inf"}${close}`;
}

function shown(value) {
  if (value === null || value === undefined) return "";
  return Array.isArray(value) ? value.join(", ") : String(value);
}

/** Text -> a value one of the variants accepts (the service checks the rest and names the field). */
function parse(text, { nullable, options }) {
  const trimmed = text.trim();
  if (trimmed === "") {
    if (nullable) return null;
    throw new Error("required");
  }
  for (const option of options) {
    if ((option.type === "number" || option.type === "integer") && trimmed !== "" && !Number.isNaN(Number(trimmed))) return Number(trimmed);
    if (option.const !== undefined && trimmed === option.const) return option.const;
    if (option.type === "array") {
      const items = trimmed.split(/[\s,]+/).filter(Boolean).map(Number);
      if (items.every((n) => !Number.isNaN(n))) return items;
    }
    if (option.type === "string" && !option.const) return trimmed;
  }
  throw new Error(`not ${options.map((o) => o.const ? `"${o.const}"` : o.type === "array" ? "a list of numbers" : `a ${o.type}`).join(" or ")}`);
}

/** The object variant the form composes: the only one, or among several (a synthetic task or a dataset)
 * the one whose fields hold the default value; the form offers synthetic tasks, datasets go through the API. */
function objectVariant(options, value) {
  const objects = options.filter((option) => option.properties);
  if (objects.length !== options.length || objects.length === 0) return null;
  if (objects.length === 1) return objects[0];
  const keys = Object.keys(value || {});
  return objects.find((option) => keys.length && keys.every((key) => key in option.properties)) || null;
}

/** Inputs for an object schema; returns a function reading the current value. */
function objectFields(spec, schema, defaults, path, container, registry) {
  const readers = [];
  for (const [name, property] of Object.entries(schema.properties || {})) {
    const fieldPath = [...path, name];
    const kinds = variants(spec, property);
    const value = defaults && name in defaults ? defaults[name] : property.default ?? null;
    const sub = objectVariant(kinds.options, value);
    const description = property.description || (sub ? sub.description : "") || "";
    if (sub) {  // a nested object (a nullable one can be switched off)
      const set = h("fieldset", { "data-path": fieldPath.join(".") });
      const legend = h("legend", {});
      let enabled = () => true;
      if (kinds.nullable) {
        const box = h("input", { type: "checkbox", checked: value !== null, name: fieldPath.join(".") });
        box.addEventListener("change", () => set.classList.toggle("off", !box.checked));
        set.classList.toggle("off", value === null);
        legend.append(h("label", {}, box, ` ${name}`));
        enabled = () => box.checked;
      } else {
        legend.append(name);
      }
      set.append(legend);
      if (description) set.append(h("div", { class: "muted", text: description }));
      const read = objectFields(spec, sub, value || {}, fieldPath, set, registry);
      container.append(set);
      readers.push([name, () => (enabled() ? read() : null)]);
      continue;
    }
    const id = `field-${fieldPath.join("-")}`;
    const message = h("div", { class: "message" });
    let input, read;
    const single = kinds.options.length === 1 ? kinds.options[0] : null;
    const itemEnum = single && single.type === "array" ? resolve(spec, single.items).enum : null;
    if (single && single.enum) {
      input = h("select", { id, name: fieldPath.join(".") }, single.enum.map((option) => h("option", { value: option, text: option, selected: option === value })));
      read = () => input.value;
    } else if (itemEnum) {
      const boxes = itemEnum.map((option) => h("input", { type: "checkbox", value: option, checked: (value || []).includes(option), name: fieldPath.join(".") }));
      input = h("div", { class: "checks", id }, boxes.map((box) => h("label", {}, box, ` ${box.value}`)));
      read = () => boxes.filter((box) => box.checked).map((box) => box.value);
    } else if (single && single.type === "boolean") {
      input = h("input", { id, type: "checkbox", checked: !!value, name: fieldPath.join(".") });
      read = () => input.checked;
    } else {
      input = h("input", { id, value: shown(value), name: fieldPath.join("."), autocomplete: "off", spellcheck: "false" });
      read = () => {
        try {
          const parsed = parse(input.value, kinds);
          input.classList.remove("invalid");
          return parsed;
        } catch (error) {
          input.classList.add("invalid");
          throw new Error(`${fieldPath.join(".")}: ${error.message}`);
        }
      };
    }
    const hints = [description, kinds.options.map(bounds).filter(Boolean).join(" "), `default: ${shown(value) || "null"}`].filter(Boolean);
    container.append(h("div", { class: "field", "data-path": fieldPath.join(".") },
      h("label", { for: id, text: name }), input, h("div", { class: "hint", text: hints.join(" \u00b7 ") }), message));
    registry.set(fieldPath.join("."), { input, message });
    readers.push([name, read]);
  }
  return () => Object.fromEntries(readers.map(([name, read]) => [name, read()]));
}

async function viewForm(page) {
  const spec = await openapi();
  const operation = spec.paths["/v1/learning-curves"].post;
  const schema = resolve(spec, operation.requestBody.content["application/json"].schema);
  const registry = new Map();
  const form = h("form", { id: "learning-curve-form", novalidate: true });
  const read = objectFields(spec, schema, {}, [], form, registry);
  const errors = h("div", { class: "error form-errors" });
  const preview = h("pre", { class: "request-preview" });
  const following = h("div", { class: "following" });
  const submit = h("button", { type: "submit", form: "learning-curve-form", text: "Submit" });
  const refresh = () => { try { preview.textContent = JSON.stringify(read(), null, 1); errors.textContent = ""; } catch (error) { errors.textContent = error.message; } };
  form.addEventListener("input", refresh);
  form.addEventListener("change", refresh);
  const actions = h("div", { class: "links" }, submit,
    h("button", { type: "button", class: "secondary", text: "Reset to defaults", onclick: () => route() }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const { input, message } of registry.values()) { message.textContent = ""; input.classList?.remove("invalid"); }
    errors.textContent = "";
    let body;
    try { body = read(); } catch (error) { errors.textContent = error.message; return; }
    submit.disabled = true;
    try {
      const submission = await api("/v1/learning-curves", { method: "POST", body });
      const label = `learning curve, alphas ${body.alphas.join(", ")}, protocols ${body.protocols.join(" ")}`;
      jobs.remember({ id: submission.job_id, kind: submission.kind, label });
      const result = h("div", { class: "result" });
      following.replaceChildren(h("h2", { text: submission.cached ? "Already computed" : "Following" }),
        jobRow({ id: submission.job_id, label }, { onFinished: () => showResult(result, submission.job_id)
          .catch((error) => result.replaceChildren(h("p", { class: "error", text: error.message }))) }),
        result);
    } catch (error) {
      if (error instanceof AuthError) { askToken(following, error.message, () => form.requestSubmit()); return; }
      if (error instanceof ApiError && Array.isArray(error.detail)) {
        const unplaced = [];
        for (const item of error.detail) {
          const target = registry.get((item.loc || []).slice(1).join("."));
          if (target) { target.message.textContent = item.msg; target.input.classList?.add("invalid"); } else unplaced.push(item);
        }
        errors.textContent = unplaced.map((item) => `${(item.loc || []).join(".")}: ${item.msg}`).join("\n");
      } else {
        errors.textContent = error.message;
      }
    } finally {
      submit.disabled = false;
    }
  });
  refresh();
  page.append(h("h1", { text: "New learning curve" }),
    h("p", { class: "muted", text: `${(operation.description || "").split("\n")[0]} Every field shows the service's default (from its OpenAPI schema).` }),
    h("div", { class: "split" }, form,
      h("div", { class: "sticky" }, actions, errors, following, h("h2", { text: "Request" }), preview)));
}

// ---------------------------------------------------------------- token and routing
function askToken(container, reason, retry) {
  const input = h("input", { type: "password", id: "token-input", autocomplete: "off", placeholder: "bearer token" });
  container.replaceChildren(h("form", { class: "panel token", id: "token-form", onsubmit: (event) => {
    event.preventDefault();
    if (!input.value.trim()) return;
    token.set(input.value.trim());
    showAuth();
    (retry || route)();
  } },
  h("h2", { text: "A token is needed" }),
  h("p", { class: "muted", text: `The service answered: ${reason}. Enter an API token to continue; it is kept in this tab only.` }),
  input, h("button", { type: "submit", text: "Continue" })));
  input.focus();
}

function showAuth() {
  const auth = document.getElementById("auth");
  auth.replaceChildren();
  if (token.get()) {
    auth.append("token set \u00b7 ", h("a", { href: "#", text: "forget it", onclick: (event) => {
      event.preventDefault(); token.clear(); showAuth(); route();
    } }));
  }
}

const ROUTES = [
  [/^#?\/?(\?.*)?$/, viewCatalogue, "diagrams"],
  [/^#\/diagrams\/([\w-]+)$/, viewDiagram, "diagrams"],
  [/^#\/new$/, viewForm, "new"],
  [/^#\/jobs$/, viewJobs, "jobs"],
  [/^#\/jobs\/([\w-]+)$/, viewJob, "jobs"],
];
let generation = 0;

async function route() {
  const current = ++generation;
  const main = document.getElementById("main");
  const hash = location.hash || "#/";
  const [pattern, view, nav] = ROUTES.find(([re]) => re.test(hash)) || [];
  document.querySelectorAll("nav a[data-nav]").forEach((a) => a.classList.toggle("active", a.dataset.nav === nav));
  const page = h("div", { class: "page" });
  if (!view) {
    page.append(h("p", { class: "error", text: `No such page: ${hash}` }));
  } else {
    try {
      await view(page, ...hash.match(pattern).slice(1));
    } catch (error) {
      if (error instanceof AuthError) askToken(page, error.message);
      else page.replaceChildren(h("p", { class: "error", text: error.message }));
    }
  }
  if (current === generation) main.replaceChildren(page);
}

window.addEventListener("hashchange", route);
showAuth();
route();
