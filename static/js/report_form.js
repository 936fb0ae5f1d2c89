// The report form: nothing typed is lost.
//  - a failed save brings the error summary into view and focuses it;
//  - leaving with unsaved edits asks first (beforeunload);
//  - every edit is kept on this device (localStorage, per form URL) until the server confirms a save, so a
//    save that met an expired session comes back after login with the text restored, and says so;
//  - several files per upload, each with its own caption box; 立即上传 sends them without a reload (HTMX);
//  - confirm before submitting, and a hint when a figure is far above the usual range.
(function () {
  var form = document.getElementById("report-form");
  if (!form) return;
  var key = form.getAttribute("data-draft-key");
  var version = form.getAttribute("data-draft-version") || "";
  var dirty = false;
  var submitting = false;
  var pressed = null;

  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.scrollIntoView({block: "start"});
    summary.focus({preventScroll: true});
  }

  // ---- the draft kept on the device
  function fields() {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrfmiddlewaretoken" && el.name !== "version" &&
        el.type !== "file" && el.type !== "submit" && el.type !== "button" && !el.hasAttribute("data-caption");
    });
  }
  function snapshot() {
    var values = {};
    fields().forEach(function (el) {
      if (el.type === "radio") {
        if (el.checked) values[el.name] = el.value;
      } else {
        values[el.name] = el.value;
      }
    });
    return values;
  }
  function store() {
    try {
      localStorage.setItem(key, JSON.stringify({version: version, values: snapshot(), at: Date.now()}));
    } catch (e) { /* storage full or refused: the beforeunload warning still protects the text */ }
  }
  function load() {
    try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }
  function apply(values) {
    fields().forEach(function (el) {
      if (!(el.name in values)) return;
      if (el.type === "radio") el.checked = el.value === values[el.name];
      else el.value = values[el.name];
    });
  }
  var kept = load();
  if (kept && kept.version === version) {
    var now = snapshot();
    var differs = Object.keys(kept.values).some(function (name) { return kept.values[name] !== now[name]; });
    if (differs) {
      var original = now;
      apply(kept.values);
      dirty = true;
      var notice = document.querySelector("[data-draft-notice]");
      if (notice) {
        notice.classList.remove("d-none");
        var discard = notice.querySelector("[data-draft-discard]");
        if (discard) discard.addEventListener("click", function () {
          apply(original);
          localStorage.removeItem(key);
          dirty = false;
          notice.classList.add("d-none");
        });
      }
    }
  } else if (kept) {
    // Saved under another version: the server has confirmed a save since (or someone else saved).
    localStorage.removeItem(key);
  }
  if (form.hasAttribute("data-unsaved")) {
    // The server refused this save and showed the form again: what is on screen is still unsaved.
    store();
    dirty = true;
  }
  form.addEventListener("input", function (event) {
    if (event.target.type === "file") return;
    dirty = true;
    store();
  });
  form.addEventListener("change", function (event) {
    if (event.target.type === "radio") { dirty = true; store(); }
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty && !submitting) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // ---- submit
  form.querySelectorAll("button[type=submit]").forEach(function (button) {
    button.addEventListener("click", function () { pressed = button; });
  });
  form.addEventListener("submit", function (event) {
    var question = pressed && pressed.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    store();
    submitting = true;
  });

  // ---- files: one caption box per chosen file
  var input = form.querySelector("input[data-file-input]");
  var nameLabel = form.querySelector("[data-file-name]");
  var captions = form.querySelector("[data-captions]");
  var uploadNow = form.querySelector("[data-upload-now]");
  function drawCaptions(files) {
    if (!captions) return;
    captions.textContent = "";
    var count = Math.max(files.length, 1);
    for (var i = 0; i < count; i++) {
      var id = i === 0 ? "id_evidence_caption" : "id_evidence_caption_" + (i + 1);
      var label = document.createElement("label");
      label.className = "form-label small mb-1";
      label.htmlFor = id;
      label.textContent = files.length > 1 ? "“" + files[i].name + "”的说明" : "材料说明";
      var box = document.createElement("input");
      box.type = "text";
      box.name = "evidence_caption";
      box.id = id;
      box.className = "form-control mb-2";
      box.maxLength = parseInt(captions.getAttribute("data-max") || "200", 10);
      box.setAttribute("data-caption", "");
      captions.appendChild(label);
      captions.appendChild(box);
    }
  }
  if (input) {
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files || []);
      nameLabel.textContent = files.length === 0 ? "未选择文件" :
        files.length === 1 ? files[0].name : "已选择 " + files.length + " 个文件";
      nameLabel.classList.toggle("text-muted", files.length === 0);
      drawCaptions(files);
      if (uploadNow) uploadNow.disabled = files.length === 0;
    });
  }
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "evidence-box") return;
    if (!document.querySelector("#evidence-box [data-testid=evidence-error]") && input) {
      input.value = "";
      nameLabel.textContent = "未选择文件";
      nameLabel.classList.add("text-muted");
      drawCaptions([]);
      if (uploadNow) uploadNow.disabled = true;
    }
  });

  // ---- figures far above the usual range
  form.querySelectorAll("input[data-typical-max]").forEach(function (box) {
    var hint = box.parentElement.querySelector("[data-unusual-hint]");
    var limit = parseFloat(box.getAttribute("data-typical-max"));
    if (!hint || isNaN(limit)) return;
    var check = function () { hint.classList.toggle("d-none", !(parseFloat(box.value) > limit)); };
    box.addEventListener("input", check);
    check();
  });
})();
