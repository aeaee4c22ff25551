// Progressive enhancement only: the form works the same without it.
// Shows the tablet or the pump fieldsets for the chosen treatment (a fieldset with an
// error stays visible), and moves focus to the error summary after a refused submit.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var radios = document.querySelectorAll("input[name=variant]");
  function chosen() {
    for (var i = 0; i < radios.length; i++) { if (radios[i].checked) { return radios[i].value; } }
    return null;
  }
  function showVariant() {
    var variant = chosen();
    var groups = document.querySelectorAll("fieldset[data-variant]");
    for (var i = 0; i < groups.length; i++) {
      var group = groups[i];
      var keep = !variant || group.getAttribute("data-variant") === variant ||
                 group.querySelector(".field-error") !== null;
      group.hidden = !keep;
    }
  }
  for (var i = 0; i < radios.length; i++) { radios[i].addEventListener("change", showVariant); }
  showVariant();
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
});
