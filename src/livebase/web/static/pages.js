// Small page helpers, no framework: image uploads with a progress bar, extra SKU rows,
// copy buttons and confirmations. Pages work without this script except for uploads.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // XMLHttpRequest rather than fetch: fetch has no upload progress events.
  function upload(box, file) {
    var bar = box.querySelector("progress");
    var status = box.querySelector("[data-status]");
    var xhr = new XMLHttpRequest();
    var body = new FormData();
    body.append("file", file);
    bar.value = 0;
    status.textContent = "";
    box.classList.add("busy");
    xhr.open("POST", box.dataset.url);
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { bar.value = Math.floor((e.loaded / e.total) * 99); }
    };
    xhr.onload = function () {
      box.classList.remove("busy");
      var data = {};
      try { data = JSON.parse(xhr.responseText); } catch (err) { data = {}; }
      if (xhr.status >= 200 && xhr.status < 300) {
        // 100% only once the server has stored and thumbnailed the image.
        bar.value = 100;
        status.textContent = box.dataset.done;
        box.dataset.state = "done";
        show(box, data);
      } else {
        bar.value = 0;
        status.textContent = box.dataset.failed + (data.detail ? " " + data.detail : "");
        box.dataset.state = "failed";
      }
    };
    xhr.onerror = function () {
      box.classList.remove("busy");
      status.textContent = box.dataset.failed;
      box.dataset.state = "failed";
    };
    box.dataset.state = "uploading";
    xhr.send(body);
  }

  function show(box, data) {
    var target = document.querySelector(box.dataset.target || "");
    var url = data.thumb_url || data.cover_url || (data.avatar && data.avatar.photo_url);
    if (!target || !url) { return; }
    if (box.dataset.mode === "append") {
      var li = document.createElement("li");
      var img = document.createElement("img");
      img.src = url; img.alt = "";
      li.appendChild(img);
      target.appendChild(li);
    } else {
      target.src = url;
      target.hidden = false;
    }
  }

  document.querySelectorAll("[data-upload]").forEach(function (box) {
    var input = box.querySelector('input[type="file"]');
    input.addEventListener("change", function () {
      if (input.files && input.files[0]) { upload(box, input.files[0]); }
    });
  });

  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    button.addEventListener("click", function () {
      var rows = document.querySelector("[data-sku-rows]");
      var last = rows.lastElementChild;
      var copy = last.cloneNode(true);
      copy.querySelectorAll("input").forEach(function (i) { i.value = ""; });
      rows.appendChild(copy);
    });
  });

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.dataset.copy);
      source.select();
      var done = function () { button.textContent = button.dataset.copied; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.value).then(done, function () {
          document.execCommand("copy"); done();
        });
      } else { document.execCommand("copy"); done(); }
    });
  });

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.dataset.confirm)) { e.preventDefault(); }
    });
  });
})();
