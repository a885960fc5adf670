// The room client (DESIGN §7) and the viewer page that renders it. No framework.
//
// RoomClient owns one WebSocket to /ws/shows/{id} and an explicit state:
//   idle → connecting → live → (drop) → reconnecting → connecting → live ...
//   and the terminal states banned (4403), not_found (4404), unauthorised (4401), closed.
// It tracks the room's seq: a critical frame must be last + 1 and any other frame must
// carry at most last; otherwise a critical frame was missed and the client reconnects
// with ?since=last, where the server replays what was missed (or sends gap + snapshot).
//
// Rendering never happens in onmessage: frames are queued and applied once per animation
// frame, chat lines appended as one fragment and trimmed, so a busy room cannot freeze a
// phone (thousands of lines a minute become a few DOM writes a frame).
(function () {
  "use strict";

  var CRITICAL = {
    show: 1, sale_open: 1, sale_close: 1, sold_out: 1, price: 1, coupon: 1,
    bag_start: 1, bag_draw: 1, notice: 1
  };
  // Backoff after a drop: 0.5 s doubling to 10 s, with jitter so a room's worth of
  // phones that lost the same Wi-Fi do not come back in one instant.
  var BACKOFF_MIN_MS = 500;
  var BACKOFF_MAX_MS = 10000;
  // A ping keeps proxies (and mobile NATs) from closing an idle socket; 25 s is below the
  // common 30–60 s idle timeouts.
  var PING_MS = 25000;

  function RoomClient(opts) {
    this.showId = opts.showId;
    this.url = opts.url || RoomClient.urlFor(opts.showId);
    this.onFrame = opts.onFrame || function () {};
    this.onState = opts.onState || function () {};
    this.state = "idle";
    this.seq = null;        // last critical seq applied; null before the first snapshot
    this.attempt = 0;
    this.resumes = 0;       // reconnects that asked for since=
    this.ws = null;
    this._timer = null;
    this._ping = null;
    this._lastUrl = "";
    var self = this;
    window.addEventListener("offline", function () { self._drop("offline"); });
    window.addEventListener("online", function () {
      if (self.state === "reconnecting") { self._schedule(0); }
    });
  }

  RoomClient.urlFor = function (showId) {
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    return proto + "//" + location.host + "/ws/shows/" + encodeURIComponent(showId);
  };

  RoomClient.prototype._set = function (state, detail) {
    if (this.state === state) { return; }
    this.state = state;
    this.onState(state, detail);
  };

  RoomClient.prototype.connect = function () {
    var self = this;
    clearTimeout(this._timer);
    var url = this.url + (this.seq !== null ? "?since=" + this.seq : "");
    if (this.seq !== null) { this.resumes += 1; }
    this._lastUrl = url;
    this._set(this.attempt ? "reconnecting" : "connecting");
    var ws;
    try { ws = new WebSocket(url); } catch (e) { this._retry(); return; }
    this.ws = ws;
    ws.onopen = function () {
      clearInterval(self._ping);
      self._ping = setInterval(function () { self.send({ t: "ping" }); }, PING_MS);
    };
    ws.onmessage = function (ev) {
      if (ws !== self.ws) { return; }
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      self._frame(f);
    };
    ws.onclose = function (ev) {
      if (ws !== self.ws) { return; }
      clearInterval(self._ping);
      self.ws = null;
      if (ev.code === 4403) { self._set("banned"); return; }
      if (ev.code === 4404) { self._set("not_found"); return; }
      if (ev.code === 4401) { self._set("unauthorised"); return; }
      if (self.state === "closed") { return; }
      self._retry();
    };
  };

  RoomClient.prototype._frame = function (f) {
    if (f.t === "error") { this.onFrame(f); return; }
    if (f.t === "snapshot") {
      this.seq = f.seq;
      this.attempt = 0;
      this._set("live");
      this.onFrame(f);
      return;
    }
    if (f.t === "gap") { this.onFrame(f); return; }  // a snapshot follows
    if (this.seq === null) { return; }  // nothing to apply a change to before a snapshot
    if (CRITICAL[f.t]) {
      if (f.seq <= this.seq) { return; }  // already applied (replayed twice)
      if (f.seq !== this.seq + 1) { this._resync(); return; }
      this.seq = f.seq;
    } else if (typeof f.seq === "number" && f.seq > this.seq) {
      // A state or stream frame from after a critical frame we never got.
      this._resync();
      return;
    }
    if (this.state !== "live") { this.attempt = 0; this._set("live"); }
    this.onFrame(f);
  };

  // A missed critical frame: drop this socket and resume from the last one applied.
  RoomClient.prototype._resync = function () {
    var ws = this.ws;
    this.ws = null;
    if (ws) { try { ws.close(4000, "resync"); } catch (e) { /* closing anyway */ } }
    this.attempt = 1;
    this.connect();
  };

  RoomClient.prototype._drop = function (why) {
    var ws = this.ws;
    if (!ws || this.state === "closed") { return; }
    this.ws = null;
    clearInterval(this._ping);
    try { ws.close(4000, why); } catch (e) { /* gone already */ }
    this._retry();
  };

  RoomClient.prototype._retry = function () {
    this.attempt += 1;
    this._set("reconnecting");
    var base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, this.attempt - 1));
    var wait = base / 2 + Math.random() * base / 2;
    if (navigator.onLine === false) { wait = BACKOFF_MAX_MS; }  // "online" will wake us
    this._schedule(wait);
  };

  RoomClient.prototype._schedule = function (ms) {
    var self = this;
    clearTimeout(this._timer);
    this._timer = setTimeout(function () { self.connect(); }, ms);
  };

  RoomClient.prototype.send = function (obj) {
    if (this.ws && this.ws.readyState === 1) {
      this.ws.send(JSON.stringify(obj));
      return true;
    }
    return false;
  };

  RoomClient.prototype.close = function () {
    this._set("closed");
    clearTimeout(this._timer);
    clearInterval(this._ping);
    if (this.ws) { this.ws.close(1000); this.ws = null; }
  };

  // -- helpers shared with the console ---------------------------------------------

  function yuan(fen) {
    if (fen === null || fen === undefined) { return ""; }
    var sign = fen < 0 ? "-" : "";
    fen = Math.abs(fen);
    var s = String(Math.floor(fen / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return sign + "¥" + s + "." + String(fen % 100).padStart(2, "0");
  }

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) { n.className = cls; }
    if (text !== undefined && text !== null) { n.textContent = text; }
    return n;
  }

  function translator(id) {
    var node = document.getElementById(id);
    var msgs = node ? JSON.parse(node.textContent) : {};
    return function (key, values) {
      var text = msgs[key] || key;
      if (values) {
        Object.keys(values).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
      }
      return text;
    };
  }

  function csrf() {
    return (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  }

  // A JSON call with the cookie session: the CSRF header proves it came from our page.
  function api(method, path, body, headers) {
    var h = { "X-CSRF-Token": csrf(), "Accept": "application/json" };
    if (body !== undefined) { h["Content-Type"] = "application/json"; }
    Object.keys(headers || {}).forEach(function (k) { h[k] = headers[k]; });
    return fetch(path, {
      method: method, headers: h, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      return r.text().then(function (txt) {
        var data = {};
        try { data = txt ? JSON.parse(txt) : {}; } catch (e) { data = { detail: txt }; }
        return { ok: r.ok, status: r.status, data: data };
      });
    });
  }

  function newKey() {
    var a = new Uint8Array(12);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  function remainingMs(iso) {
    if (!iso) { return null; }
    return Date.parse(iso) - Date.now();
  }

  function clock(ms) {
    if (ms === null) { return ""; }
    var s = Math.max(0, Math.ceil(ms / 1000));
    var m = Math.floor(s / 60);
    var h = Math.floor(m / 60);
    var mm = String(m % 60).padStart(2, "0");
    var ss = String(s % 60).padStart(2, "0");
    return (h ? h + ":" : "") + mm + ":" + ss;
  }

  // Work queued by frames, applied once per animation frame (or at once when the tab is
  // hidden, where requestAnimationFrame does not run; a hidden tab draws nothing anyway).
  function Batcher(apply) {
    this.queue = [];
    this.pending = false;
    this.apply = apply;
  }
  Batcher.prototype.push = function (item) {
    this.queue.push(item);
    if (this.pending) { return; }
    this.pending = true;
    var self = this;
    var run = function () {
      self.pending = false;
      var items = self.queue;
      self.queue = [];
      self.apply(items);
    };
    if (document.hidden) { setTimeout(run, 100); } else { requestAnimationFrame(run); }
  };

  window.LivebaseRoom = {
    RoomClient: RoomClient, yuan: yuan, el: el, translator: translator, api: api,
    newKey: newKey, remainingMs: remainingMs, clock: clock, Batcher: Batcher, CRITICAL: CRITICAL
  };
})();
