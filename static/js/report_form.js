// The report form: confirm before submitting, and hint when a figure is far above the usual range.
(function () {
  var form = document.getElementById("report-form");
  if (!form) return;
  var pressed = null;
  form.querySelectorAll("button[type=submit]").forEach(function (button) {
    button.addEventListener("click", function () { pressed = button; });
  });
  form.addEventListener("submit", function (event) {
    var question = pressed && pressed.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  // The browser's own file button speaks the browser's language; ours says 选择文件 and shows the name.
  form.querySelectorAll("input[data-file-input]").forEach(function (input) {
    var label = form.querySelector("[data-file-name]");
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      label.textContent = file ? file.name : "未选择文件";
      label.classList.toggle("text-muted", !file);
    });
  });
  form.querySelectorAll("input[data-typical-max]").forEach(function (input) {
    var hint = input.parentElement.querySelector("[data-unusual-hint]");
    var limit = parseFloat(input.getAttribute("data-typical-max"));
    if (!hint || isNaN(limit)) return;
    var check = function () {
      var value = parseFloat(input.value);
      hint.classList.toggle("d-none", !(value > limit));
    };
    input.addEventListener("input", check);
    check();
  });
})();
