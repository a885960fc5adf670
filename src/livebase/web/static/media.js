// Media pages: the replay's chapters (a click seeks, the playing chapter is marked), the
// host's stream health (polled JSON, a bitrate sparkline), a product's clips.
(function () {
  "use strict";

  function replay() {
    var video = document.querySelector("[data-testid=replay-video]");
    var chapters = document.querySelectorAll("[data-testid=chapter]");
    if (!video || !chapters.length) { return; }
    function seek(li) {
      var start = parseFloat(li.dataset.start) || 0;
      var src = li.dataset.src;
      if (src && video.dataset.part !== li.dataset.part) {
        video.dataset.part = li.dataset.part;
        video.src = src;
        video.addEventListener("loadedmetadata", function once() {
          video.removeEventListener("loadedmetadata", once);
          video.currentTime = start;
          video.play().catch(function () {});
        });
        return;
      }
      video.currentTime = start;
      var p = video.play();
      if (p && p.catch) { p.catch(function () {}); }
    }
    Array.prototype.forEach.call(chapters, function (li) {
      li.querySelector("button").addEventListener("click", function () { seek(li); });
    });
    video.addEventListener("timeupdate", function () {
      var t = video.currentTime;
      Array.prototype.forEach.call(chapters, function (li) {
        var on = li.dataset.part === video.dataset.part &&
          t >= parseFloat(li.dataset.start) && t < parseFloat(li.dataset.end);
        li.classList.toggle("current", on);
      });
    });
  }

  function health() {
    var box = document.querySelector("[data-lb-health]");
    if (!box) { return; }
    var state = box.querySelector("[data-testid=health-state]");
    var canvas = box.querySelector("canvas");
    var points = [];
    function draw() {
      var ctx = canvas.getContext("2d");
      var w = canvas.width, h = canvas.height;
      ctx.clearRect(0, 0, w, h);
      if (points.length < 2) { return; }
      var max = Math.max.apply(null, points.concat([1]));
      ctx.strokeStyle = "#e4393c";
      ctx.lineWidth = 2;
      ctx.beginPath();
      points.forEach(function (v, i) {
        var x = (i / (points.length - 1)) * (w - 2) + 1;
        var y = h - 2 - (v / max) * (h - 6);
        if (i) { ctx.lineTo(x, y); } else { ctx.moveTo(x, y); }
      });
      ctx.stroke();
      ctx.fillStyle = "#666";
      ctx.font = "11px sans-serif";
      ctx.fillText(Math.round(max) + " kbps", 4, 12);
    }
    function set(name, text) {
      var el = box.querySelector('[data-h="' + name + '"]');
      if (el) { el.textContent = text; }
    }
    function tick() {
      fetch(box.dataset.lbHealth, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (!s) { return; }
          box.dataset.publishing = s.publishing ? "1" : "0";
          state.textContent = s.server === "down" ? box.dataset.tDown : (s.publishing ? box.dataset.tOn : box.dataset.tIdle);
          state.dataset.state = s.server === "down" ? "down" : (s.publishing ? "on" : "idle");
          if (!s.publishing) { return; }
          set("bitrate_kbps", Math.round(s.bitrate_kbps) + " kbps");
          set("fps", s.fps == null ? "–" : String(s.fps));
          set("size", s.width ? s.width + "×" + s.height : "–");
          set("dropped_frames", String(s.dropped_frames));
          set("uptime_s", Math.round(s.uptime_s) + " s");
          points.push(s.bitrate_kbps);
          if (points.length > 60) { points.shift(); }
          draw();
        })
        .catch(function () {});
    }
    tick();
    setInterval(tick, 2000);
  }

  function clips() {
    var box = document.querySelector("[data-lb-clips]");
    if (!box) { return; }
    fetch(box.dataset.lbClips, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || !data.items.length) { return; }
        var list = box.querySelector("ul");
        var tpl = box.querySelector("template");
        data.items.forEach(function (c) {
          var li = tpl.content.firstElementChild.cloneNode(true);
          li.querySelector("video").src = c.video_url;
          li.dataset.testid = "clip";
          var a = li.querySelector("a");
          a.href = "/shows/" + c.show_id + "/replay";
          a.textContent = c.show_title;
          list.appendChild(li);
        });
        box.hidden = false;
      })
      .catch(function () {});
  }

  function boot() { replay(); health(); clips(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", boot); } else { boot(); }
})();
