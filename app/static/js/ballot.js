// Progressive enhancement for the ballot: a live running total (knapsack) or count (approval).
// Without JavaScript the "Add up my choice" button asks the server for the same figures.
(function () {
  "use strict";
  var form = document.querySelector("form.ballot");
  if (!form) { return; }
  var style = form.getAttribute("data-style");
  var total = document.getElementById("ballot-total");
  if (!total || style === "single") { return; }
  document.documentElement.className += " js";
  var budget = parseInt(form.getAttribute("data-budget"), 10);
  var max = parseInt(form.getAttribute("data-max") || "0", 10);
  var lang = document.documentElement.lang || "kk";
  var format = new Intl.NumberFormat(lang === "en" ? "en" : lang + "-KZ");
  var line = total.querySelector("p") || total;
  var template = line.textContent;
  var boxes = form.querySelectorAll("input[name=proposals]");

  function update() {
    var sum = 0, chosen = 0;
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].checked) { sum += parseInt(boxes[i].getAttribute("data-cost"), 10); chosen++; }
    }
    if (style === "knapsack") {
      var over = sum > budget;
      total.className = "ballot-total" + (over ? " over" : "");
      line.textContent = format.format(sum) + " ₸ / " + format.format(budget) + " ₸" + (over ? " ⚠" : "");
    } else if (max) {
      line.textContent = chosen + " / " + max;
      for (var j = 0; j < boxes.length; j++) {
        boxes[j].disabled = !boxes[j].checked && chosen >= max;
      }
    }
  }
  if (template) { form.addEventListener("change", update); update(); }
})();
