/* essaycheck workshop: the teacher's rubric editor.
 *
 * The rubric being edited lives in `state.rubric` (the JSON form of the YAML file) and the
 * sample answers in `state.samples`, in this page only: nothing is kept in the browser's
 * storage. Every edit sends both to /api/v1/rubrics/try (debounced), which validates the
 * rubric, fits it and scores the answers; the page then shows each answer's verdicts, the
 * agreement with the teacher's marks, and any problem at the field it names. All text is
 * put in the page with textContent, never as markup. API calls carry the page's session
 * cookie and its CSRF token.
 */
(function () {
  "use strict";

  const csrfMeta = document.querySelector("meta[name=csrf-token]");
  const workspace = document.getElementById("workspace");
  if (!csrfMeta || !workspace || !window.fetch) {
    return;
  }
  let csrf = csrfMeta.getAttribute("content");
  const $ = (id) => document.getElementById(id);
  const STATUS_LABELS = { covered: "Covered", partial: "Partly covered", missed: "Missed" };
  const POINT_MARKS = [["", "not marked"], ["1", "made"], ["0.5", "half made"], ["0", "not made"]];
  const state = { rubric: null, samples: [], trial: null, problems: [], suggestions: [] };
  let trialTimer = null;
  let trialSeq = 0;
  let suggestSeq = 0;

  // ------------------------------------------------------------------ helpers

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([name, value]) => {
      if (value === null || value === undefined || value === false) {
        return;
      }
      if (name === "text") {
        node.textContent = value;
      } else if (name === "on") {
        Object.entries(value).forEach(([event, handler]) => node.addEventListener(event, handler));
      } else if (name === "className") {
        node.className = value;
      } else {
        node.setAttribute(name, value === true ? "" : String(value));
      }
    });
    (children || []).forEach((child) => {
      if (child !== null && child !== undefined && child !== false) {
        node.append(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  function say(id, message) {
    const node = $(id);
    if (node) {
      node.textContent = message;
    }
  }

  function api(method, path, body, form) {
    const headers = { Accept: "application/json", "X-CSRFToken": csrf };
    const options = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
    if (form) {
      options.body = form;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then((response) =>
      response.json().catch(() => ({ error: "bad_response", message: "the server's answer was not JSON" }))
        .then((data) => {
          if (response.status === 400 && data.error === "csrf") {
            return refreshToken().then(() => api(method, path, body, form));
          }
          return { status: response.status, data: data };
        }));
  }

  function refreshToken() {
    // a CSRF token that expired: take the fresh one the page carries, and retry once
    return fetch("/", { credentials: "same-origin", cache: "no-store" })
      .then((response) => response.text())
      .then((html) => {
        const fresh = new DOMParser().parseFromString(html, "text/html")
          .querySelector("meta[name=csrf-token]");
        if (!fresh) {
          throw new Error("signed out");
        }
        csrf = fresh.getAttribute("content");
        document.querySelectorAll("input[name=csrf_token]").forEach((input) => { input.value = csrf; });
      });
  }

  function sentence(text) {
    text = String(text || "");
    text = text.charAt(0).toUpperCase() + text.slice(1);
    return /[.!?]$/.test(text) ? text : text + ".";
  }

  function numberOrRaw(text) {
    const trimmed = String(text).trim();
    if (trimmed === "") {
      return undefined;
    }
    const value = Number(trimmed);
    return Number.isFinite(value) ? value : trimmed; // the server names a bad number
  }

  function fmt(value, digits) {
    return value === null || value === undefined ? "n/a" : Number(value).toFixed(digits);
  }

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  function keepFocus(render) {
    // re-rendering replaces nodes: give focus back to the control with the same id
    const active = document.activeElement;
    const id = active && active.id;
    const selection = active && "selectionStart" in active ? [active.selectionStart, active.selectionEnd] : null;
    render();
    if (id && document.activeElement !== $(id) && $(id)) {
      $(id).focus({ preventScroll: true });
      if (selection && $(id).setSelectionRange) {
        try { $(id).setSelectionRange(selection[0], selection[1]); } catch (e) { /* number inputs */ }
      }
    }
  }

  function focusLater(id) {
    const node = $(id);
    if (node) {
      node.focus();
    }
  }

  // ------------------------------------------------------------------ the rubric as JSON

  function rubricJSON() {
    const r = state.rubric;
    const data = {};
    Object.keys(r).forEach((key) => {
      if (!["points", "bands", "max_score"].includes(key)) {
        data[key] = r[key];
      }
    });
    data.max_score = numberOrRaw(r.max_score);
    const bands = {};
    r.bands.forEach((band) => {
      if (String(band[0]).trim() !== "" || String(band[1]).trim() !== "") {
        bands[String(band[0]).trim()] = numberOrRaw(band[1]);
      }
    });
    if (Object.keys(bands).length) {
      data.bands = bands;
    }
    data.points = r.points.map((p) => {
      const point = { id: p.id, text: p.text };
      if (p.keywords.length) {
        point.keywords = p.keywords.map((group) => group.slice());
      }
      const weight = numberOrRaw(p.weight);
      if (weight !== undefined) {
        point.weight = weight;
      }
      if (String(p.hint || "").trim()) {
        point.hint = p.hint;
      }
      if (p.accept && p.accept.length) {
        point.accept = p.accept.slice();
      }
      return point;
    });
    return data;
  }

  function loadRubric(data) {
    const r = Object.assign({}, data);
    r.max_score = data.max_score === undefined ? "" : String(data.max_score);
    r.bands = Object.entries(data.bands || {}).map(([count, mark]) => [String(count), String(mark)]);
    r.points = (data.points || []).map((p) => ({
      id: p.id || "", text: p.text || "", hint: p.hint || "",
      weight: p.weight === undefined ? "" : String(p.weight),
      keywords: (p.keywords || []).map((g) => (Array.isArray(g) ? g.slice() : [String(g)])),
      accept: (p.accept || []).slice()
    }));
    r.subject = data.subject || "";
    state.rubric = r;
    state.trial = null;
    state.problems = [];
    state.suggestions = [];
    workspace.hidden = false;
    renderEditor();
    renderSamples();
    scheduleTrial(0);
  }

  function uniqueId(base) {
    const used = new Set(state.rubric.points.map((p) => p.id));
    let candidate = base;
    let n = 2;
    while (used.has(candidate)) {
      candidate = base + "-" + n;
      n += 1;
    }
    return candidate;
  }

  // ------------------------------------------------------------------ the editor

  function field(label, control, help, id) {
    const children = [el("label", { for: id, className: "ws-label", text: label })];
    if (help) {
      children.push(el("p", { id: id + "-help", className: "field-help", text: help }));
      control.setAttribute("aria-describedby", id + "-help");
      control.setAttribute("data-describedby", id + "-help");
    }
    children.push(control);
    return el("div", { className: "ws-field" }, children);
  }

  function textInput(id, value, fieldName, onInput, options) {
    const opts = options || {};
    const tag = opts.multiline ? "textarea" : "input";
    const input = el(tag, {
      id: id, "data-field": fieldName, className: opts.multiline ? "ws-textarea ws-textarea--short" : null,
      type: opts.multiline ? null : (opts.type || "text"), rows: opts.multiline ? (opts.rows || 2) : null,
      min: opts.min, step: opts.step, inputmode: opts.inputmode, autocomplete: "off",
      spellcheck: opts.spellcheck === false ? "false" : null
    });
    input.value = value === undefined || value === null ? "" : value;
    input.addEventListener("input", () => {
      onInput(input.value);
      scheduleTrial();
    });
    return input;
  }

  function renderEditor() {
    keepFocus(() => {
      renderRubricFields();
      renderPoints();
    });
    showProblems();
  }

  function renderRubricFields() {
    const r = state.rubric;
    const box = $("rubric-fields");
    box.replaceChildren(
      el("div", { className: "ws-row" }, [
        field("Rubric id", textInput("rubric-id", r.id, "id", (v) => { r.id = v.trim(); }, { spellcheck: false }),
          "Lower-case letters, digits and dashes; saved as <id>.yaml.", "rubric-id"),
        field("Marks available", textInput("rubric-max", r.max_score, "max_score", (v) => { r.max_score = v; },
          { type: "number", min: "0.5", step: "0.5", inputmode: "decimal" }), null, "rubric-max"),
        field("Subject (optional)", textInput("rubric-subject", r.subject, "subject", (v) => { r.subject = v; }), null,
          "rubric-subject")
      ]),
      field("Question", textInput("rubric-question", r.question, "question", (v) => { r.question = v; },
        { multiline: true }), null, "rubric-question"),
      field("Model answer", textInput("rubric-model", r.model_answer, "model_answer", (v) => { r.model_answer = v; },
        { multiline: true, rows: 3 }), "Shown to no student; the point texts are what answers are matched against.",
        "rubric-model"),
      renderBands()
    );
  }

  function renderBands() {
    const r = state.rubric;
    const rows = r.bands.map((band, index) => el("li", { className: "ws-band", "data-field": "bands." + String(band[0]).trim() }, [
      el("label", { for: "band-" + index + "-count", className: "ws-label ws-label--small", text: "Points covered" }),
      textInput("band-" + index + "-count", band[0], "bands." + String(band[0]).trim(), (v) => { band[0] = v; },
        { type: "number", min: "0", step: "0.5", inputmode: "decimal" }),
      el("label", { for: "band-" + index + "-mark", className: "ws-label ws-label--small", text: "Mark" }),
      textInput("band-" + index + "-mark", band[1], null, (v) => { band[1] = v; },
        { type: "number", min: "0", step: "0.5", inputmode: "decimal" }),
      el("button", { type: "button", className: "ws-small-button", id: "band-" + index + "-remove",
        "aria-label": "Remove band " + (index + 1),
        on: { click: () => { r.bands.splice(index, 1); renderEditor(); scheduleTrial(); focusLater("add-band"); } } },
      ["Remove"])
    ]));
    return el("fieldset", { className: "ws-bands", "data-field": "bands" }, [
      el("legend", { className: "ws-label", text: "Bands (optional)" }),
      el("p", { className: "field-help", id: "bands-help",
        text: "The mark for a number of points covered (a partly covered point counts half). Without bands the mark is the weighted share of points covered." }),
      el("ul", { className: "ws-band-list" }, rows),
      el("button", { type: "button", className: "ws-small-button", id: "add-band",
        on: { click: () => { r.bands.push(["", ""]); renderEditor(); focusLater("band-" + (r.bands.length - 1) + "-count"); } } },
      ["Add a band"])
    ]);
  }

  function renderPoints() {
    const list = $("points");
    list.replaceChildren(...state.rubric.points.map(renderPoint));
  }

  function pointAction(label, id, handler) {
    return el("button", { type: "button", className: "ws-small-button", id: id, on: { click: handler } }, [label]);
  }

  function renderPoint(point, i) {
    const n = i + 1;
    const points = state.rubric.points;
    const prefix = "points[" + i + "]";
    const groups = point.keywords.map((group, g) => renderGroup(point, i, group, g));
    const newGroupInput = el("input", { id: "p" + i + "-newgroup", type: "text", autocomplete: "off", spellcheck: "false",
      "aria-describedby": "p" + i + "-kw-help" });
    const addGroup = () => {
      const words = newGroupInput.value.split(",").map((w) => w.trim()).filter(Boolean);
      if (!words.length) {
        return;
      }
      point.keywords.push(words);
      renderEditor();
      scheduleTrial();
      focusLater("p" + i + "-newgroup");
    };
    newGroupInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        addGroup();
      }
    });
    const actions = el("div", { className: "ws-point-actions", role: "group", "aria-label": "Point " + n + " actions" }, [
      i > 0 ? pointAction("Move up", "p" + i + "-up", () => movePoint(i, -1)) : null,
      i < points.length - 1 ? pointAction("Move down", "p" + i + "-down", () => movePoint(i, 1)) : null,
      i < points.length - 1 ? pointAction("Merge with the next point", "p" + i + "-merge", () => mergePoint(i)) : null,
      pointAction("Split in two", "p" + i + "-split", () => splitPoint(i)),
      points.length > 1 ? pointAction("Delete", "p" + i + "-delete", () => deletePoint(i)) : null
    ]);
    return el("li", { className: "ws-point", id: "point-card-" + i, "data-field": prefix }, [
      el("div", { className: "ws-point-head" }, [
        el("h4", { className: "ws-point-title", id: "p" + i + "-title", tabindex: "-1", text: "Point " + n }),
        el("p", { className: "ws-point-stats", id: "p" + i + "-stats" })
      ]),
      field("Point " + n + ": what the answer should say", textInput("p" + i + "-text", point.text, prefix + ".text",
        (v) => { point.text = v; }, { multiline: true }), null, "p" + i + "-text"),
      el("fieldset", { className: "ws-keywords", "data-field": prefix + ".keywords" }, [
        el("legend", { className: "ws-label", text: "Key words for point " + n }),
        el("p", { className: "field-help", id: "p" + i + "-kw-help" }, [
          "The answer needs a word from each group; any one word of a group will do. End a word with ",
          el("code", { text: "*" }), " to accept any ending: ", el("code", { text: "photosynth*" }),
          " matches photosynthesis and photosynthetic."
        ]),
        groups.length ? el("ul", { className: "ws-groups" }, groups) : el("p", { className: "field-help", text: "No key words: the point is matched on its wording alone." }),
        el("div", { className: "ws-add" }, [
          el("label", { for: "p" + i + "-newgroup", className: "ws-label ws-label--small", text: "New group (words separated by commas)" }),
          newGroupInput,
          el("button", { type: "button", className: "ws-small-button", id: "p" + i + "-newgroup-add",
            "aria-label": "Add the group to point " + n, on: { click: addGroup } }, ["Add group"])
        ])
      ]),
      el("div", { className: "ws-row" }, [
        field("Hint for students", textInput("p" + i + "-hint", point.hint, prefix + ".hint", (v) => { point.hint = v; },
          { multiline: true }), null, "p" + i + "-hint"),
        field("Weight", textInput("p" + i + "-weight", point.weight, prefix + ".weight", (v) => { point.weight = v; },
          { type: "number", min: "0.5", step: "0.5", inputmode: "decimal" }), "Default 1.", "p" + i + "-weight")
      ]),
      point.accept.length ? el("p", { className: "field-help", text: "Also accepted: " + point.accept.join(" · ") }) : null,
      renderSuggestions(point, i),
      actions
    ]);
  }

  function renderGroup(point, i, group, g) {
    const n = i + 1;
    const prefix = "points[" + i + "].keywords[" + g + "]";
    const labelId = "p" + i + "-g" + g + "-label";
    const addInput = el("input", { id: "p" + i + "-g" + g + "-add", type: "text", autocomplete: "off", spellcheck: "false",
      "aria-describedby": "p" + i + "-kw-help" });
    const add = () => {
      const words = addInput.value.split(",").map((w) => w.trim()).filter(Boolean);
      if (!words.length) {
        return;
      }
      words.forEach((word) => { if (!group.includes(word)) { group.push(word); } });
      renderEditor();
      scheduleTrial();
      focusLater(addInput.id);
    };
    addInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        add();
      }
    });
    const chips = group.map((word, a) => el("li", { className: "chip ws-chip", "data-field": prefix + "[" + a + "]" }, [
      el("span", { text: word }),
      el("button", { type: "button", className: "ws-chip-remove", id: "p" + i + "-g" + g + "-x" + a,
        "aria-label": "Remove “" + word + "” from group " + (g + 1) + " of point " + n,
        on: { click: () => {
          group.splice(a, 1);
          if (!group.length) {
            point.keywords.splice(g, 1);
          }
          renderEditor();
          scheduleTrial();
          focusLater(group.length ? "p" + i + "-g" + g + "-add" : "p" + i + "-newgroup");
        } } }, ["×"])
    ]));
    return el("li", { className: "ws-group-item" }, [
      el("div", { className: "ws-group", role: "group", "aria-labelledby": labelId, "data-field": prefix }, [
        el("span", { className: "ws-group-label", id: labelId, text: "Group " + (g + 1) + " of point " + n + ", any of:" }),
        el("ul", { className: "ws-chips" }, chips),
        el("span", { className: "ws-add" }, [
          el("label", { for: addInput.id, className: "visually-hidden", text: "Add an alternative to group " + (g + 1) + " of point " + n }),
          addInput,
          el("button", { type: "button", className: "ws-small-button", id: addInput.id + "-button",
            "aria-label": "Add the alternative to group " + (g + 1) + " of point " + n, on: { click: add } }, ["Add"])
        ])
      ])
    ]);
  }

  function structural(change, focusId) {
    change();
    renderEditor();
    scheduleTrial();
    if (focusId) {
      focusLater(focusId);
    }
  }

  function movePoint(i, step) {
    const points = state.rubric.points;
    structural(() => {
      const [point] = points.splice(i, 1);
      points.splice(i + step, 0, point);
    }, "p" + (i + step) + (step < 0 && i + step > 0 ? "-up" : step > 0 && i + step < points.length - 1 ? "-down" : "-text"));
  }

  function mergePoint(i) {
    const points = state.rubric.points;
    structural(() => {
      const a = points[i];
      const b = points[i + 1];
      a.text = [a.text.trim(), b.text.trim()].filter(Boolean).join(" ");
      const seen = new Set(a.keywords.map((g) => JSON.stringify(g)));
      b.keywords.forEach((g) => { if (!seen.has(JSON.stringify(g))) { a.keywords.push(g); } });
      a.hint = [a.hint.trim(), b.hint.trim()].filter(Boolean).join(" ");
      a.weight = String((Number(a.weight) || 1) + (Number(b.weight) || 1));
      a.accept = a.accept.concat(b.accept);
      points.splice(i + 1, 1);
    }, "p" + i + "-text");
  }

  function splitText(text) {
    const sentences = text.trim().split(/(?<=[.!?;])\s+/).filter(Boolean);
    if (sentences.length > 1) {
      return [sentences[0], sentences.slice(1).join(" ")];
    }
    const at = text.search(/,\s+(and|but|while|so)\s+|\s+and\s+|,\s+/);
    if (at > 0) {
      const rest = text.slice(at).replace(/^,?\s*(and|but|while|so)?\s*/, "");
      return [text.slice(0, at).trim() + ".", rest.charAt(0).toUpperCase() + rest.slice(1)];
    }
    return [text, text];
  }

  function splitPoint(i) {
    const points = state.rubric.points;
    structural(() => {
      const point = points[i];
      const [first, second] = splitText(point.text);
      const inSecond = (group) => group.some((w) => second.toLowerCase().includes(w.replace(/\*$/, "").replace(/^not /, "").toLowerCase()))
        && !group.some((w) => first.toLowerCase().includes(w.replace(/\*$/, "").replace(/^not /, "").toLowerCase()));
      const moved = first === second ? [] : point.keywords.filter(inSecond);
      point.text = first;
      point.keywords = point.keywords.filter((g) => !moved.includes(g));
      points.splice(i + 1, 0, { id: uniqueId(point.id + "-2"), text: second, hint: "", weight: "", keywords: moved, accept: [] });
    }, "p" + (i + 1) + "-text");
  }

  function deletePoint(i) {
    const points = state.rubric.points;
    structural(() => { points.splice(i, 1); }, "p" + Math.min(i, points.length - 2) + "-text");
  }

  $("add-point").addEventListener("click", () => {
    const points = state.rubric.points;
    structural(() => {
      points.push({ id: uniqueId("point-" + (points.length + 1)), text: "", hint: "", weight: "", keywords: [], accept: [] });
    }, "p" + points.length + "-text");
  });

  // ------------------------------------------------------------------ problems at their fields

  function clearProblems(root) {
    root.querySelectorAll(".ws-field-error").forEach((node) => node.remove());
    root.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
    root.querySelectorAll(".ws-invalid").forEach((node) => node.classList.remove("ws-invalid"));
    root.querySelectorAll("[data-error-for]").forEach((node) => {
      const original = node.getAttribute("data-describedby");
      if (original) {
        node.setAttribute("aria-describedby", original);
      } else {
        node.removeAttribute("aria-describedby");
      }
      node.removeAttribute("data-error-for");
    });
  }

  function fieldElement(root, name) {
    let key = name;
    while (key) {
      const found = root.querySelector("[data-field=\"" + CSS.escape(key) + "\"]");
      if (found) {
        return found;
      }
      const shorter = key.replace(/(\[\d+\]|\.[^.[\]]+)$/, "");
      if (shorter === key) {
        break;
      }
      key = shorter;
    }
    return null;
  }

  function markProblems(root, problems, prefix) {
    clearProblems(root);
    const unplaced = [];
    problems.forEach((problem, index) => {
      const target = problem.field ? fieldElement(root, problem.field) : null;
      const text = sentence(problem.message) + (problem.fix ? " Fix: " + sentence(problem.fix) : "");
      if (!target) {
        unplaced.push(problem);
        return;
      }
      const errorId = prefix + "-error-" + index;
      const message = el("p", { className: "ws-field-error", id: errorId }, [text]);
      if (/^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) {
        target.setAttribute("aria-invalid", "true");
        if (!target.hasAttribute("data-describedby") && target.getAttribute("aria-describedby")) {
          target.setAttribute("data-describedby", target.getAttribute("aria-describedby"));
        }
        target.setAttribute("data-error-for", "1");
        target.setAttribute("aria-describedby", ((target.getAttribute("data-describedby") || "") + " " + errorId).trim());
        target.insertAdjacentElement("afterend", message);
      } else {
        target.classList.add("ws-invalid");
        target.append(message);
      }
    });
    return unplaced;
  }

  function showProblems() {
    const box = $("problems");
    const list = $("problems-list");
    if (!state.rubric) {
      return;
    }
    markProblems($("edit"), state.problems, "rubric");
    // as 'essaycheck rubric check' prints them: field: message (fix: ...)
    list.replaceChildren(...state.problems.map((p) => el("li", {}, [
      el("strong", { text: p.field || "rubric" }),
      ": " + p.message + (p.fix ? " (fix: " + p.fix + ")" : "")
    ])));
    $("problems-title").textContent = state.problems.length === 1
      ? "The rubric has a problem; answers are scored again once it is fixed"
      : "The rubric has " + state.problems.length + " problems; answers are scored again once they are fixed";
    box.hidden = !state.problems.length;
  }

  // ------------------------------------------------------------------ trying it

  function scheduleTrial(delay) {
    clearTimeout(trialTimer);
    trialTimer = setTimeout(runTrial, delay === undefined ? 250 : delay);
  }

  function samplesJSON() {
    return state.samples.map((s) => {
      const item = { answer: s.answer };
      const mark = numberOrRaw(s.mark);
      if (mark !== undefined) {
        item.mark = mark;
      }
      const points = {};
      Object.entries(s.points).forEach(([id, value]) => {
        if (value !== "") {
          points[id] = Number(value);
        }
      });
      if (Object.keys(points).length) {
        item.points = points;
      }
      return item;
    });
  }

  function runTrial() {
    if (!state.rubric) {
      return;
    }
    const seq = ++trialSeq;
    const started = performance.now();
    api("POST", "/api/v1/rubrics/try", { rubric: rubricJSON(), answers: samplesJSON() }).then((reply) => {
      if (seq !== trialSeq) {
        return; // a later edit is already on its way
      }
      if (reply.status === 422 && reply.data.problems) {
        state.problems = reply.data.problems;
        showProblems();
        say("try-status", state.samples.length
          ? "Not scored again: fix the rubric's problems first. The results below are from the last valid version."
          : "");
        return;
      }
      if (reply.status !== 200) {
        say("try-status", "Not scored: " + sentence(reply.data.message));
        return;
      }
      state.problems = [];
      state.trial = reply.data;
      showProblems();
      keepFocus(() => {
        renderSamples();
        renderPointStats();
      });
      const ms = Math.round(performance.now() - started);
      say("try-status", trialSummary(ms));
      fetchSuggestions();
    }).catch(() => say("try-status", "Could not reach the workshop server: is it still running?"));
  }

  function trialSummary(ms) {
    const t = state.trial;
    if (!t || !state.samples.length) {
      return "Rubric checked: no problems. Add answers to see how it marks them.";
    }
    const marked = t.answers.filter((a) => a.mark !== null).length;
    let text = "Scored " + plural(t.results.length, "answer") + " in " + ms + " ms";
    if (marked) {
      const disagree = t.answers.filter((a) => a.disagrees).length;
      text += ": " + (disagree ? plural(disagree, "answer") + " where the rubric and your marks disagree, listed first" : "the rubric agrees with every mark you gave");
    }
    return text + ".";
  }

  function renderPointStats() {
    const t = state.trial;
    state.rubric.points.forEach((point, i) => {
      const node = $("p" + i + "-stats");
      if (!node) {
        return;
      }
      if (!t || !t.results.length) {
        node.textContent = "";
        return;
      }
      const scored = t.results.filter((r) => r.points);
      const made = scored.filter((r) => r.points[i] && r.points[i].status !== "missed").length;
      let text = "Made in " + made + " of " + plural(scored.length, "answer");
      const figures = t.agreement && t.agreement.points.find((p) => p.point_id === point.id);
      if (figures) {
        text += " · against your verdicts: precision " + fmt(figures.precision, 2) + ", recall " + fmt(figures.recall, 2);
      }
      node.textContent = text;
    });
  }

  function renderAgreement() {
    const box = $("agreement");
    const a = state.trial && state.trial.agreement;
    if (!a || !a.n) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    const rows = a.points.map((p) => el("tr", {}, [
      el("th", { scope: "row", text: p.point_id }),
      el("td", { text: String(p.n) }),
      el("td", { text: fmt(p.precision, 2) }),
      el("td", { text: fmt(p.recall, 2) })
    ]));
    box.replaceChildren(...[
      el("h3", { className: "ws-subtitle", text: "Agreement with your marks" }),
      el("dl", { className: "ws-figures" }, [
        el("div", {}, [el("dt", { text: "Answers marked" }), el("dd", { id: "figure-n", text: String(a.n) })]),
        el("div", {}, [el("dt", { text: "Pearson r" }), el("dd", { id: "figure-pearson", text: fmt(a.pearson, 2) })]),
        el("div", {}, [el("dt", { text: "Same whole mark" }), el("dd", { id: "figure-exact",
          text: a.exact === null ? "n/a" : Math.round(a.exact * 100) + "%" })])
      ]),
      rows.length ? el("table", { className: "ws-table" }, [
        el("caption", { text: "Per point, against your per-point verdicts" }),
        el("thead", {}, [el("tr", {}, [
          el("th", { scope: "col", text: "Point" }), el("th", { scope: "col", text: "Answers" }),
          el("th", { scope: "col", text: "Precision" }), el("th", { scope: "col", text: "Recall" })])]),
        el("tbody", {}, rows)
      ]) : null
    ].filter(Boolean));
    box.hidden = false;
  }

  function renderSamples() {
    renderAgreement();
    const list = $("samples");
    const t = state.trial;
    const order = t && t.results.length === state.samples.length ? t.order : state.samples.map((_, i) => i);
    list.replaceChildren(...order.map((index) => renderSample(index, t && t.results.length === state.samples.length ? t : null)));
  }

  function renderSample(index, t) {
    const sample = state.samples[index];
    const n = index + 1;
    const result = t ? t.results[index] : null;
    const info = t ? t.answers[index] : null;
    const markInput = el("input", { id: "s" + index + "-mark", type: "number", min: "0", step: "0.5", inputmode: "decimal" });
    markInput.value = sample.mark;
    markInput.addEventListener("input", () => { sample.mark = markInput.value; scheduleTrial(); });
    const head = [
      el("h4", { className: "ws-sample-title", id: "s" + index + "-title", text: "Answer " + n })
    ];
    if (result && result.points) {
      head.push(el("p", { className: "ws-sample-score", id: "s" + index + "-score" }, [
        "Rubric: ", el("strong", { text: String(result.score) }), " out of " + result.max_score
      ]));
    }
    if (info && info.disagrees) {
      const diff = info.mark_difference;
      head.push(el("p", { className: "ws-disagree", id: "s" + index + "-disagree",
        text: diff ? "Disagrees: the rubric gives " + Math.abs(diff) + (Math.abs(diff) === 1 ? " mark " : " marks ") + (diff > 0 ? "more" : "less")
          : "Disagrees on " + plural(info.points_disagree.length, "point") }));
    }
    const body = [];
    if (result && result.error) {
      body.push(el("p", { className: "notice notice--error", text: "Not scored: " + sentence(result.message) }));
    }
    body.push(renderAnswerText(index, sample, info));
    if (result && result.points) {
      body.push(el("ol", { className: "ws-verdicts" }, result.points.map((p, k) => renderVerdict(index, sample, p, k, info))));
    }
    return el("li", { className: "ws-sample" + (info && info.disagrees ? " ws-sample--disagree" : ""), id: "sample-" + index }, [
      el("div", { className: "ws-sample-head" }, head.concat([
        el("span", { className: "ws-mark" }, [
          el("label", { for: markInput.id, className: "ws-label ws-label--small", text: "Your mark for answer " + n }),
          markInput
        ]),
        el("button", { type: "button", className: "ws-small-button", id: "s" + index + "-remove",
          "aria-label": "Remove answer " + n, on: { click: () => {
            state.samples.splice(index, 1);
            state.trial = null;
            renderSamples();
            scheduleTrial(0);
            focusLater("sample-answer");
          } } }, ["Remove"])
      ])),
      ...body
    ]);
  }

  function renderAnswerText(index, sample, info) {
    const view = el("div", { className: "answer-view ws-answer", role: "region", "aria-label": "Answer " + (index + 1) + ", evidence highlighted" });
    const segments = info && info.segments ? info.segments : [{ text: sample.answer, points: [] }];
    segments.forEach((segment) => {
      if (!segment.points.length) {
        view.append(segment.text);
        return;
      }
      view.append(el("mark", { className: "evidence", "data-points": segment.points.join(" ") }, [
        el("span", { className: "visually-hidden", text: "[evidence for point" + (segment.points.length > 1 ? "s " : " ") + segment.points.join(" and ") + ":] " }),
        segment.text,
        el("sup", { className: "evidence-ref", "aria-hidden": "true", text: segment.points.join(",") })
      ]));
    });
    return view;
  }

  function renderVerdict(index, sample, p, k, info) {
    const select = el("select", { id: "s" + index + "-p" + k + "-mark" });
    POINT_MARKS.forEach(([value, label]) => {
      const option = el("option", { value: value, text: label });
      if (String(sample.points[p.point_id] === undefined ? "" : sample.points[p.point_id]) === value) {
        option.selected = true;
      }
      select.append(option);
    });
    select.addEventListener("change", () => {
      sample.points[p.point_id] = select.value;
      scheduleTrial(0);
    });
    const disagrees = info && info.points_disagree.includes(p.point_id);
    return el("li", { className: "ws-verdict point--" + p.status + (disagrees ? " ws-verdict--disagree" : ""), id: "s" + index + "-p" + k }, [
      el("span", { className: "badge badge--" + p.status, text: STATUS_LABELS[p.status] }),
      el("span", { className: "ws-verdict-point", text: " Point " + (k + 1) + ": " + p.point_text }),
      p.quote ? el("q", { className: "ws-quote", text: p.quote }) : null,
      p.matched_terms.length ? el("span", { className: "ws-terms", text: " Key words found: " + p.matched_terms.join(", ") }) : null,
      disagrees ? el("strong", { className: "ws-disagree-note", text: " You marked it differently." }) : null,
      el("span", { className: "ws-point-mark" }, [
        el("label", { for: select.id, className: "ws-label--small", text: "Your verdict on point " + (k + 1) + " in answer " + (index + 1) + " " }),
        select
      ])
    ]);
  }

  // ------------------------------------------------------------------ suggestions

  function describeSuggestion(s, point, n) {
    const where = s.group === null ? "a new key word group"
      : "group " + (s.group + 1) + " (" + (point.keywords[s.group] || []).join(", ") + ")";
    return (s.action === "add" ? "Add “" + s.term + "” to " : "Remove “" + s.term + "” from ") + where +
      " of point " + n;
  }

  function renderSuggestions(point, i) {
    const mine = state.suggestions.filter((s) => s.point_id === point.id);
    const box = el("div", { className: "ws-suggestions", id: "p" + i + "-suggestions" });
    if (!mine.length) {
      return box;
    }
    box.append(el("h5", { className: "ws-suggestions-title", text: "Suggested by your marks" }));
    box.append(el("ul", { className: "ws-suggestion-list" }, mine.map((s, k) => {
      const text = describeSuggestion(s, point, i + 1);
      return el("li", { className: "ws-suggestion" }, [
        el("span", { className: "ws-suggestion-text", text: text }),
        el("span", { className: "ws-suggestion-figures",
          text: "fixes " + plural(s.fixes, "verdict") + ", breaks " + s.breaks + (s.inferred ? " (partly inferred from total marks)" : "") }),
        ...s.evidence.map((quote) => el("q", { className: "ws-quote", text: quote })),
        el("button", { type: "button", className: "ws-small-button", id: "p" + i + "-s" + k + "-accept",
          "aria-label": "Accept: " + text, on: { click: () => acceptSuggestion(s, i) } }, ["Accept"])
      ]);
    })));
    return box;
  }

  function fetchSuggestions() {
    const marked = state.samples.some((s) => String(s.mark).trim() !== "" || Object.values(s.points).some((v) => v !== ""));
    if (!marked) {
      if (state.suggestions.length) {
        state.suggestions = [];
        renderEditor();
      }
      return;
    }
    const seq = ++suggestSeq;
    // until_next_try: the server stops when the next edit's trial arrives ("superseded"), so
    // that suggestions for a rubric already edited never slow the re-score down
    api("POST", "/api/v1/rubrics/suggest", { rubric: rubricJSON(), answers: samplesJSON(), until_next_try: true }).then((reply) => {
      if (seq !== suggestSeq || reply.status !== 200 || reply.data.superseded) {
        return; // stale, or the rubric changed meanwhile: the next trial asks again
      }
      state.suggestions = reply.data.suggestions;
      renderEditor();
    }).catch(() => {});
  }

  function acceptSuggestion(suggestion, i) {
    suggestSeq += 1; // drop any suggestions still on their way for the rubric before this one
    api("POST", "/api/v1/rubrics/apply", { rubric: rubricJSON(), suggestion: suggestion }).then((reply) => {
      if (reply.status !== 200) {
        say("try-status", "Not applied: " + sentence(reply.data.message));
        return;
      }
      loadRubric(reply.data.rubric); // validated again by the server; the answers are kept

      say("try-status", "Accepted: " + describeSuggestion(suggestion, state.rubric.points[i] || { keywords: [] }, i + 1) + ". Scoring again…");
      focusLater("p" + i + "-title");
    });
  }

  // ------------------------------------------------------------------ start: open or draft

  function loadList() {
    return api("GET", "/api/v1/rubrics").then((reply) => {
      const select = $("open-id");
      const rubrics = reply.status === 200 ? reply.data.rubrics : [];
      select.replaceChildren(...(rubrics.length
        ? rubrics.map((r) => el("option", { value: r.id, text: r.id + ": " + r.question }))
        : [el("option", { value: "", text: "No rubric in the folder yet" })]));
      const problems = reply.status === 200 ? reply.data.problems : [];
      const box = $("open-problems");
      box.hidden = !problems.length;
      box.textContent = problems.length ? "Not valid, so not listed: " + problems.map((p) =>
        p.file + (p.field ? " (" + p.field + ")" : "") + ": " + p.message).join("; ") + ". Fix with essaycheck rubric check." : "";
    });
  }

  $("open-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = $("open-id").value;
    if (!id) {
      say("start-status", "There is no rubric to open yet: draft one.");
      return;
    }
    say("start-status", "Opening " + id + "…");
    api("GET", "/api/v1/rubrics/" + encodeURIComponent(id)).then((reply) => {
      if (reply.status !== 200) {
        say("start-status", "Not opened: " + sentence(reply.data.message));
        return;
      }
      say("start-status", "Opened " + id + ".");
      loadRubric(reply.data.rubric);
      focusLater("edit-heading");
    });
  });

  $("draft-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = $("draft-form");
    const body = {
      id: $("draft-id").value.trim(), question: $("draft-question").value,
      model_answer: $("draft-model").value, context: $("draft-notes").value,
      max_score: numberOrRaw($("draft-max").value) === undefined ? null : numberOrRaw($("draft-max").value)
    };
    say("start-status", "Drafting…");
    api("POST", "/api/v1/rubrics/draft", body).then((reply) => {
      if (reply.status === 422 && reply.data.problems) {
        markProblems(form, reply.data.problems, "draft");
        say("start-status", "Not drafted: " + reply.data.problems.map((p) => p.field + " " + p.message).join("; ") + ".");
        const first = form.querySelector("[aria-invalid=true]");
        if (first) {
          first.focus();
        }
        return;
      }
      if (reply.status !== 200) {
        say("start-status", "Not drafted: " + sentence(reply.data.message));
        return;
      }
      markProblems(form, [], "draft");
      loadRubric(reply.data.rubric);
      let capped = "";
      if (reply.data.merged.length || reply.data.left_out.length) {
        capped = " The model answer makes " + plural(reply.data.claims, "claim") + ", more than a draft holds: " +
          plural(reply.data.merged.length, "claim") + " merged into a point like it as accepted wordings, " +
          plural(reply.data.left_out.length, "claim") + " with the least distinctive words left out (add back any you need as points).";
      }
      say("start-status", "Drafted " + plural(reply.data.rubric.points.length, "point") + " from the model answer: check each one below." + capped);
      focusLater("edit-heading");
    });
  });

  $("draft-notes-file").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (!file) {
      return;
    }
    file.text().then((text) => {
      $("draft-notes").value = text;
      say("start-status", "Loaded the notes from " + file.name + ".");
    });
  });

  // ------------------------------------------------------------------ sample answers

  $("sample-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const answer = $("sample-answer").value;
    if (!answer.trim()) {
      say("try-status", "Paste an answer first.");
      focusLater("sample-answer");
      return;
    }
    state.samples.push({ answer: answer.replace(/\r\n/g, "\n"), mark: $("sample-mark").value, points: {} });
    $("sample-answer").value = "";
    $("sample-mark").value = "";
    renderSamples();
    scheduleTrial(0);
    focusLater("sample-answer");
  });

  $("sample-csv").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (!file || !state.rubric) {
      return;
    }
    const form = new FormData();
    form.append("file", file);
    form.append("question_id", state.rubric.id);
    api("POST", "/api/v1/answers/csv", undefined, form).then((reply) => {
      event.target.value = "";
      if (reply.status !== 200) {
        say("try-status", "Not loaded: " + sentence(reply.data.message));
        return;
      }
      reply.data.answers.forEach((a) => {
        const points = {};
        Object.entries(a.points || {}).forEach(([id, value]) => { points[id] = String(value); });
        state.samples.push({ answer: a.answer, mark: a.mark === null ? "" : String(a.mark), points: points });
      });
      say("try-status", "Loaded " + plural(reply.data.answers.length, "answer") + " from " + file.name + ".");
      renderSamples();
      scheduleTrial(0);
    });
  });

  // ------------------------------------------------------------------ saving

  $("save-button").addEventListener("click", () => {
    if (!state.rubric) {
      return;
    }
    const data = rubricJSON();
    say("save-status", "Saving…");
    api("PUT", "/api/v1/rubrics/" + encodeURIComponent(data.id || "-"), { rubric: data }).then((reply) => {
      if (reply.status === 422 && reply.data.problems) {
        state.problems = reply.data.problems;
        showProblems();
        say("save-status", "Not saved: fix the problems shown in the rubric first.");
        return;
      }
      if (reply.status !== 200) {
        say("save-status", "Not saved: " + sentence(reply.data.message));
        return;
      }
      say("save-status", "Saved " + reply.data.file + (reply.data.backup ? " (the previous version is kept as " + reply.data.backup + ")" : "") + ".");
      loadList();
    });
  });

  $("download-form").addEventListener("submit", () => {
    $("download-rubric").value = state.rubric ? JSON.stringify(rubricJSON()) : "";
  });

  loadList();
})();
