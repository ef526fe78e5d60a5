/* The shipment scan page: a handheld scanner types the asset tag and Enter; each scan goes to
   the server, the answer shows big (visually only, never a sound), the running count updates and
   the device appears at the top of the list. Loaded as a file: the Content-Security-Policy
   forbids inline scripts. */
(function () {
  "use strict";

  var form = document.getElementById("scan-form");
  if (!form) return;
  var field = form.querySelector("[name=tag]");
  var status = document.getElementById("scan-status");
  var count = document.getElementById("scan-count");
  var list = document.getElementById("scan-list");
  var table = document.getElementById("scan-table");
  var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  var queue = Promise.resolve();

  function refocus() {
    field.focus();
  }

  function cell(text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function removeForm(url) {
    var td = document.createElement("td");
    var remove = document.createElement("form");
    remove.method = "post";
    remove.action = url;
    remove.className = "inline";
    var token = document.createElement("input");
    token.type = "hidden";
    token.name = "csrfmiddlewaretoken";
    token.value = csrf;
    var button = document.createElement("button");
    button.type = "submit";
    button.className = "link-button";
    button.textContent = table.dataset.remove;
    remove.appendChild(token);
    remove.appendChild(button);
    td.appendChild(remove);
    return td;
  }

  function show(result) {
    status.hidden = false;
    status.textContent = (result.ok ? "\u2714 " : "\u2716 ") + result.message;
    status.className = "scan-status " + (result.ok ? "ok" : "refused");
    void status.offsetWidth; /* restart the flash animation */
    status.classList.add("flash");
    if (result.count_text) count.textContent = result.count_text;
    if (result.ok && result.item) {
      var row = document.createElement("tr");
      row.appendChild(cell(result.item.tag, "tag"));
      row.appendChild(cell(result.item.serial_number));
      row.appendChild(cell(result.item.make_model));
      row.appendChild(cell(result.item.request));
      row.appendChild(removeForm(result.item.remove_url));
      row.className = "new";
      list.insertBefore(row, list.firstChild);
    }
    refocus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var value = field.value.trim();
    field.value = "";
    refocus();
    if (!value) return;
    var data = new FormData(form);
    data.set("tag", value);
    /* Scans are sent one after the other, in the order they were made. */
    queue = queue.then(function () {
      return fetch(form.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) { return response.json(); })
        .then(show)
        .catch(function () { show({ ok: false, message: form.dataset.networkError }); });
    });
  });

  /* Whatever was clicked, the next scan goes into the scan field. */
  document.addEventListener("click", function (event) {
    if (!event.target.closest("a, button, select, input, label, textarea, summary")) refocus();
  });
  window.addEventListener("focus", refocus);
  refocus();
})();
