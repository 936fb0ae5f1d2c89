// Behaviour that used to sit in inline onchange= / onsubmit= / onclick= attributes, which the
// Content-Security-Policy does not run:
//   <select data-autosubmit>          submits its form when changed;
//   <form data-confirm="…">           asks before it is submitted;
//   <a data-confirm="…">              asks before the link is followed;
//   <input type=checkbox data-select-all="name">  ticks or clears every checkbox named "name".
(function () {
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target.closest) return;
    var select = target.closest("select[data-autosubmit]");
    if (select && select.form) {
      select.form.submit();
      return;
    }
    var name = target.getAttribute("data-select-all");
    if (name) {
      document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
        box.checked = target.checked;
      });
    }
  });
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-confirm]");
    if (link && !window.confirm(link.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
