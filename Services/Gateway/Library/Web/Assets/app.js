// Improves the pages that already work without it: search as you type.
"use strict";
(function () {
  for (const input of document.querySelectorAll("input[data-suggest]")) {
    const list = document.getElementById(input.getAttribute("aria-controls"));
    let timer = null, asked = 0;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      const q = input.value.trim();
      if (q.length < 2) { list.hidden = true; return; }
      timer = setTimeout(async function () {
        const mine = ++asked;
        const answer = await fetch(input.dataset.suggest + "?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } });
        if (mine !== asked || !answer.ok) return;
        const results = await answer.json();
        list.replaceChildren(...results.map(function (r) {
          const item = document.createElement("li"), link = document.createElement("a");
          link.href = r.href; link.textContent = r.kind + ": " + r.label;
          item.setAttribute("role", "option"); item.appendChild(link); return item;
        }));
        list.hidden = results.length === 0;
      }, 150);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && !list.hidden) { const first = list.querySelector("a"); if (first) { event.preventDefault(); first.focus(); } }
      if (event.key === "Escape") list.hidden = true;
    });
  }
})();

// The deal board: a card dragged onto another column moves the deal there through the same form
// the card carries for keyboards and browsers without JavaScript.
(function () {
  const board = document.querySelector(".board[data-csrf]");
  if (!board) return;
  let dragged = null;
  for (const card of board.querySelectorAll(".card.deal")) {
    card.addEventListener("dragstart", function (event) {
      dragged = card;
      event.dataTransfer.setData("text/plain", card.dataset.deal);
      card.classList.add("dragging");
    });
    card.addEventListener("dragend", function () { card.classList.remove("dragging"); });
  }
  for (const column of board.querySelectorAll(".column")) {
    column.addEventListener("dragover", function (event) { event.preventDefault(); column.classList.add("over"); });
    column.addEventListener("dragleave", function () { column.classList.remove("over"); });
    column.addEventListener("drop", async function (event) {
      event.preventDefault();
      column.classList.remove("over");
      const card = dragged;
      if (!card || card.closest(".column") === column) return;
      const form = card.querySelector("form.move");
      const body = new URLSearchParams(new FormData(form));
      body.set("to", column.dataset.stage);
      const answer = await fetch(form.action, { method: "POST", body: body, headers: { Accept: "application/json" } });
      const result = await answer.json();
      if (!answer.ok) {
        card.insertAdjacentHTML("beforeend", "<p class=\"error\" role=\"alert\"></p>");
        card.lastElementChild.textContent = answer.status === 412
          ? "Someone else changed this deal meanwhile; reload the board." : (result.detail || "The deal was not moved.");
        return;
      }
      form.querySelector("input[name=version]").value = result.version;
      const select = form.querySelector("select[name=to]");
      select.value = column.dataset.stage;
      column.querySelector(".cards").appendChild(card);
      if (column.dataset.stage === "won") card.querySelector("form.move").remove();
    });
  }
})();

// The import form: once a file is chosen, a field to choose for each of its columns (the form
// works without it: columns named as fields are taken as they are).
(function () {
  const file = document.querySelector("form.import input[type=file]");
  if (!file) return;
  const area = document.getElementById("mapping-columns"), mapping = document.getElementById("mapping");
  const fields = Array.from(document.getElementById("import-columns").content.querySelectorAll("option")).map(function (o) { return o.value; });
  function update() {
    const chosen = {};
    for (const select of area.querySelectorAll("select")) if (select.value && select.value !== select.dataset.header) chosen[select.dataset.header] = select.value;
    mapping.value = Object.keys(chosen).length ? JSON.stringify(chosen) : "";
  }
  file.addEventListener("change", async function () {
    area.replaceChildren();
    if (!file.files.length) { area.hidden = true; return; }
    const head = await file.files[0].slice(0, 64 * 1024).text();
    const line = head.split(/\r?\n/)[0].replace(/^\uFEFF/, "");
    const separator = (line.match(/;/g) || []).length > (line.match(/,/g) || []).length ? ";" : ",";
    const headers = line.split(separator).map(function (h) { return h.trim().replace(/^"|"$/g, ""); }).filter(Boolean);
    headers.forEach(function (header, index) {
      const label = document.createElement("label"), select = document.createElement("select");
      label.textContent = "Column “" + header + "” is";
      label.htmlFor = select.id = "map-" + index;
      select.dataset.header = header;
      select.add(new Option("not imported", ""));
      for (const field of fields) select.add(new Option(field.replace(/_/g, " "), field));
      const normal = header.toLowerCase().replace(/[\s-]+/g, "_");
      select.value = fields.includes(normal) ? normal : "";
      select.addEventListener("change", update);
      area.append(label, select);
    });
    area.hidden = headers.length === 0;
    update();
  });
})();
