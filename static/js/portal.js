// Behaviour that used to sit in inline onchange= / onsubmit= / onclick= attributes, which the
// Content-Security-Policy does not run:
//   <select data-autosubmit>          submits its form when changed;
//   <form data-confirm="…">           asks before it is submitted;
//   <form data-busy="…">              once submitted, its buttons are disabled and say "…" (no double submit);
//   <a data-confirm="…">              asks before the link is followed;
//   <input type=checkbox data-select-all="name">  ticks or clears every checkbox named "name";
//   <ol data-reorder="form-id" data-reorder-name="field">  its <li draggable="true" data-reorder-id="…">
//                                     items are dragged into a new order; on drop, the form gets one
//                                     hidden "field" per item in the new order and is submitted (with
//                                     htmx, which swaps the list). Without a mouse, the list's own
//                                     up/down buttons do the same.
(function () {
  var dragged = null;
  var before = "";

  function orderOf(list) {
    return Array.prototype.map.call(list.querySelectorAll(":scope > [draggable=true]"), function (item) {
      return item.getAttribute("data-reorder-id");
    });
  }
  document.addEventListener("dragstart", function (event) {
    var item = event.target.closest && event.target.closest("[data-reorder] > [draggable=true]");
    if (!item) return;
    dragged = item;
    before = orderOf(item.parentNode).join(",");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.getAttribute("data-reorder-id"));
    item.classList.add("dragging");
  });
  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var item = event.target.closest && event.target.closest("[data-reorder] > [draggable=true]");
    if (!item || item.parentNode !== dragged.parentNode) return;
    event.preventDefault();
    if (item === dragged) return;
    var box = item.getBoundingClientRect();
    item.parentNode.insertBefore(dragged, event.clientY > box.top + box.height / 2 ? item.nextSibling : item);
  });
  document.addEventListener("drop", function (event) {
    if (dragged) event.preventDefault();
  });
  document.addEventListener("dragend", function () {
    if (!dragged) return;
    var list = dragged.parentNode;
    dragged.classList.remove("dragging");
    dragged = null;
    var order = orderOf(list);
    var form = document.getElementById(list.getAttribute("data-reorder"));
    if (!form || order.join(",") === before) return;
    var name = list.getAttribute("data-reorder-name");
    form.querySelectorAll('input[name="' + name + '"]').forEach(function (input) {
      input.remove();
    });
    order.forEach(function (id) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = id;
      form.appendChild(input);
    });
    form.requestSubmit();
  });

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
      return;
    }
    var busy = event.target.getAttribute && event.target.getAttribute("data-busy");
    if (busy) {
      event.target.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = true;
        button.textContent = busy;
      });
    }
  });
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-confirm]");
    if (link && !window.confirm(link.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
