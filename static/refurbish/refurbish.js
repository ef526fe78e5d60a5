/* Workshop pages: the intake scan field (a handheld scanner types the serial and Enter) and
   "select all" on device lists. Loaded as a file: the Content-Security-Policy forbids inline
   scripts. Confirmation is visual only, never a sound. */
(function () {
  "use strict";

  function setupScan(form) {
    var field = form.querySelector("[name=serial]");
    var status = document.getElementById("scan-status");
    var count = document.getElementById("scan-count");
    var list = document.getElementById("scan-list");
    var table = document.getElementById("scan-table");
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

    function show(result) {
      status.hidden = false;
      status.textContent = (result.ok ? "\u2714 " : "\u2716 ") + result.message;
      status.className = "scan-status " + (result.ok ? "ok" : "refused");
      void status.offsetWidth; /* restart the flash animation */
      status.classList.add("flash");
      if (result.counts_text) count.textContent = result.counts_text;
      /* A later page (older scans) gets no new row; the first keeps its page size. */
      if (result.ok && result.device && !("laterPage" in table.dataset)) {
        var row = document.createElement("tr");
        var serial = document.createElement("td");
        var link = document.createElement("a");
        link.href = result.device.url;
        link.textContent = result.device.serial_number;
        serial.appendChild(link);
        row.appendChild(serial);
        row.appendChild(cell(result.device.asset_tag, "tag"));
        row.appendChild(cell(result.device.make_model));
        row.appendChild(cell(result.device.added ? table.dataset.added : table.dataset.yes));
        row.className = "new";
        list.insertBefore(row, list.firstChild);
        while (list.rows.length > Number(table.dataset.pageSize)) list.deleteRow(-1);
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
      data.set("serial", value);
      /* Scans are sent one after the other, in the order they were made; as a plain form
         (urlencoded), which the server reads faster than multipart. */
      queue = queue.then(function () {
        return fetch(form.action || window.location.href, {
          method: "POST",
          body: new URLSearchParams(data),
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
      if (!event.target.closest("a, button, select, input, label")) refocus();
    });
    window.addEventListener("focus", refocus);
    refocus();
  }

  function setupSelectAll(box) {
    box.addEventListener("change", function () {
      var boxes = document.querySelectorAll("input[type=checkbox][name=device]");
      for (var i = 0; i < boxes.length; i++) boxes[i].checked = box.checked;
    });
  }

  var scanForm = document.getElementById("scan-form");
  if (scanForm) setupScan(scanForm);
  var selectAll = document.getElementById("select-all");
  if (selectAll) setupSelectAll(selectAll);
})();
