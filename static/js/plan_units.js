// The unit picker of the plan pages: a search box filters a unit list (the lead's <select> or the co units'
// checkboxes) by name; a button ticks every task of the import preview that has no responsible unit yet.
//   <input type=search data-unit-filter="#list-id">   hides the options / [data-unit-option] rows that do not match;
//   <button type=button data-select-open="name">       ticks the checkboxes named "name" marked data-open.
(function () {
  function matches(text, query) {
    return text.replace(/\s+/g, "").indexOf(query) !== -1;
  }
  document.addEventListener("input", function (event) {
    var input = event.target;
    var selector = input.getAttribute && input.getAttribute("data-unit-filter");
    if (!selector) return;
    var list = document.querySelector(selector);
    if (!list) return;
    var query = input.value.replace(/\s+/g, "");
    var rows = list.tagName === "SELECT" ? list.options : list.querySelectorAll("[data-unit-option]");
    var shown = 0;
    Array.prototype.forEach.call(rows, function (row) {
      var keep = !query || !row.value && list.tagName === "SELECT" || matches(row.textContent, query);
      row.hidden = !keep;
      if (keep) shown += 1;
    });
    var empty = document.querySelector(selector + "-empty");
    if (empty) empty.hidden = shown > 0;
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-select-open]");
    if (!button) return;
    var name = button.getAttribute("data-select-open");
    document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
      box.checked = box.hasAttribute("data-open");
    });
  });
})();
