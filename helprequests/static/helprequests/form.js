// Show the questions that only apply to some target groups when one of those is chosen.
// Without JavaScript every question stays visible and the server ignores what does not apply.
(function () {
  "use strict";
  var form = document.querySelector("form[data-helprequest-form]");
  if (!form) { return; }
  var pupils = (form.getAttribute("data-pupil-groups") || "").split(",");
  function fieldOf(name) {
    var input = form.querySelector("[name='" + name + "']");
    return input ? input.closest(".field") : null;
  }
  var other = fieldOf("target_group_other");
  var schooling = fieldOf("no_home_schooling");
  function update() {
    var checked = form.querySelector("input[name='target_group']:checked");
    var group = checked ? checked.value : "";
    if (other) { other.hidden = group !== "other"; }
    if (schooling) { schooling.hidden = pupils.indexOf(group) === -1; }
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "target_group") { update(); }
  });
  update();
})();
