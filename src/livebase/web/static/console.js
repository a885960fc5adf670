// The host console (中控台): REST actions with the cookie session and CSRF header, and
// live numbers drawn from the room's own frames on the same socket the viewers use.
(function () {
  "use strict";
  var R = window.LivebaseRoom;
  var root = document.getElementById("console");
  if (!R || !root) { return; }
  var t = R.translator("room-i18n");
  var el = R.el;
  var showId = root.dataset.showId;
  var sid = encodeURIComponent(showId);
  var q = function (sel) { return root.querySelector(sel); };

  // REST paths of the room actions (DESIGN §7: host actions are REST calls that publish
  // to the room). Those of other features are looked up once; a 404/405 on one means the
  // server has no such feature yet and the panel says so rather than failing silently.
  var PATHS = {
    explain: "/api/v1/shows/" + sid + "/explaining",
    sales: "/api/v1/shows/" + sid + "/flash-sales",
    sale: function (id, what) { return "/api/v1/flash-sales/" + encodeURIComponent(id) + "/" + what; },
    coupons: "/api/v1/shows/" + sid + "/coupons",
    bags: "/api/v1/shows/" + sid + "/lucky-bags",
    notice: "/api/v1/shows/" + sid + "/room/notice",
    slow: "/api/v1/shows/" + sid + "/room/slow-mode",
    mutes: "/api/v1/shows/" + sid + "/room/mutes",
    bans: "/api/v1/shows/" + sid + "/room/bans",
    held: "/api/v1/shows/" + sid + "/room/held",
    heldDecide: function (id, what) { return "/api/v1/shows/" + sid + "/room/held/" + encodeURIComponent(id) + "/" + what; },
    numbers: "/api/v1/shows/" + sid + "/room",
    health: "/api/v1/shows/" + sid + "/stream"
  };

  // Points kept per chart: 120 one-second points, the last two minutes.
  var KEEP = 120;
  var CHAT_KEEP = 100;

  var shelf = {};
  var byNo = {};
  JSON.parse(document.getElementById("room-shelf").textContent).forEach(function (l) {
    shelf[l.sku_id] = l; byNo[l.no] = l;
  });

  var live = {
    viewers: 0, peak: 0, likes: 0, orders: 0, gmv: 0, buyers: {},
    explaining: root.dataset.explaining ? Number(root.dataset.explaining) : null,
    stock: {}, sale: null, status: root.dataset.status
  };
  var dirty = {};
  var chatQueue = [];
  var batch = new R.Batcher(draw);
  function mark() {
    for (var i = 0; i < arguments.length; i++) { dirty[arguments[i]] = true; }
    batch.push(1);
  }

  function result(name, ok, text) {
    var span = q('[data-result="' + name + '"]');
    if (!span) { return; }
    span.dataset.ok = ok ? "1" : "0";
    span.textContent = text;
  }

  function done(name) {
    return function (r) {
      if (r.ok) { result(name, true, t("console.done")); return r; }
      if (r.status === 404 || r.status === 405) {
        var missing = t("console." + name + ".missing");
        result(name, false, missing.indexOf("console.") === 0 ? t("console.failed", { detail: r.data.detail || r.status }) : missing);
        return r;
      }
      result(name, false, t("console.failed", { detail: r.data.detail || r.data.error || r.status }));
      return r;
    };
  }

  function fen(text) {
    var m = /^\s*(\d+)(?:\.(\d{1,2}))?\s*$/.exec(text || "");
    if (!m) { return null; }
    return Number(m[1]) * 100 + Number((m[2] || "0").padEnd(2, "0"));
  }

  function isoIn(minutes) { return new Date(Date.now() + minutes * 60000).toISOString().replace(/\.\d{3}Z$/, "Z"); }

  // -- explaining ----------------------------------------------------------------------

  function explain(no) {
    R.api("POST", PATHS.explain, { no: no }).then(done("explain")).then(function (r) {
      if (r.ok) { live.explaining = no; mark("explain"); }
    });
  }
  root.querySelectorAll("[data-explain]").forEach(function (b) {
    b.addEventListener("click", function () { explain(Number(b.dataset.explain)); });
  });
  q("[data-testid=stop-explain]").addEventListener("click", function () { explain(null); });

  // -- flash sale ------------------------------------------------------------------------

  var flashForm = q("[data-testid=flash-form]");
  root.querySelectorAll("[data-flash-sku]").forEach(function (b) {
    b.addEventListener("click", function () {
      var line = shelf[b.dataset.flashSku];
      flashForm.elements.sku_id.value = line.sku_id;
      var base = line.live_price_fen || line.price_fen;
      flashForm.elements.price.value = (Math.floor(base * 0.8) / 100).toFixed(2);
      q("[data-testid=flash-panel]").open = true;
      flashForm.elements.price.focus();
    });
  });
  flashForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var f = flashForm.elements;
    var price = fen(f.price.value);
    if (price === null) { result("flash", false, t("console.failed", { detail: f.price.value })); return; }
    var body = {
      sku_id: f.sku_id.value, price_fen: price,
      quantity: Number(f.quantity.value), per_buyer_limit: Number(f.per_buyer_limit.value),
      starts_at: isoIn(0), ends_at: isoIn(Number(f.minutes.value))
    };
    R.api("POST", PATHS.sales, body).then(function (r) {
      if (!r.ok) { return done("flash")(r); }
      return R.api("POST", PATHS.sale(r.data.id, "open")).then(done("flash")).then(function (o) {
        if (o.ok) { R.console.lastOpened = r.data.id; setSale(Object.assign({}, r.data, o.data)); }
      });
    });
  });
  q("[data-testid=flash-close]").addEventListener("click", function () {
    if (!live.sale) { return; }
    R.api("POST", PATHS.sale(live.sale.id, "close")).then(done("flash"));
  });

  // -- coupon, lucky bag, notice -------------------------------------------------------

  q("[data-testid=coupon-form]").addEventListener("submit", function (e) {
    e.preventDefault();
    var f = e.target.elements;
    var amount = fen(f.amount.value);
    var min = fen(f.min_spend.value || "0");
    if (amount === null || min === null) { result("coupon", false, t("console.failed", { detail: f.amount.value })); return; }
    R.api("POST", PATHS.coupons, {
      quantity: Number(f.quantity.value), kind: "amount", amount_fen: amount,
      min_spend_fen: min, expires_at: isoIn(Number(f.minutes.value))
    }).then(done("coupon"));
  });

  q("[data-testid=bag-form]").addEventListener("submit", function (e) {
    e.preventDefault();
    var f = e.target.elements;
    var phrase = f.phrase.value.trim();
    var body = {
      prize: f.prize.value.trim(), winners_count: Number(f.winners.value),
      condition: f.condition.value, duration_s: Number(f.seconds.value)
    };
    if (body.condition === "chat") { body.phrase = phrase; }
    R.api("POST", PATHS.bags, body).then(done("bag"));
  });

  q("[data-testid=notice-form]").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = e.target.elements.text.value.trim();
    if (text) { R.api("PUT", PATHS.notice, { text: text }).then(done("notice")); } else { R.api("DELETE", PATHS.notice).then(done("notice")); }
  });

  // -- moderation --------------------------------------------------------------------

  q("[data-testid=slow-form]").addEventListener("submit", function (e) {
    e.preventDefault();
    R.api("PUT", PATHS.slow, { seconds: Number(e.target.elements.seconds.value) }).then(done("mod"));
  });

  function sanction(kind, userId) {
    var body = kind === "mute" ? { user_id: userId, minutes: 10 } : { user_id: userId };
    R.api("POST", kind === "mute" ? PATHS.mutes : PATHS.bans, body).then(done("mod"));
  }

  q("[data-testid=console-chat]").addEventListener("click", function (e) {
    var b = e.target.closest("button[data-act]");
    if (b) { sanction(b.dataset.act, b.dataset.user); }
  });

  function loadHeld() {
    R.api("GET", PATHS.held).then(function (r) {
      if (!r.ok) { return; }
      var list = q("[data-testid=held-list]");
      list.textContent = "";
      var items = r.data.items || [];
      if (!items.length) { list.appendChild(el("li", "muted", t("console.mod.none_held"))); return; }
      items.forEach(function (h) {
        var li = el("li");
        li.dataset.id = h.id;
        li.appendChild(el("span", "grow", (h.name || h.user_id || "") + "：" + h.text));
        ["approve", "reject"].forEach(function (what) {
          var b = el("button", "btn small " + (what === "reject" ? "secondary" : ""), t(what === "approve" ? "console.mod.publish" : "console.mod.drop"));
          b.type = "button";
          b.addEventListener("click", function () {
            // A dropped line needs a reason for the author's record; the console gives one.
            var body = what === "reject" ? { reason: t("console.mod.drop_reason") } : undefined;
            R.api("POST", PATHS.heldDecide(h.id, what), body).then(done("mod")).then(loadHeld);
          });
          li.appendChild(b);
        });
        list.appendChild(li);
      });
    });
  }
  loadHeld();
  setInterval(loadHeld, 10000);

  // -- stream health (media's endpoint, when the server has it) ----------------------

  function loadHealth() {
    R.api("GET", PATHS.health).then(function (r) {
      var box = q("[data-testid=stream-health]");
      if (!r.ok) { box.hidden = true; return; }
      box.hidden = false;
      var d = r.data;
      var parts = [t(d.publishing ? "console.health.publishing" : "console.health.idle")];
      if (d.publishing) {
        if (d.bitrate_kbps) { parts.push(Math.round(d.bitrate_kbps) + " kbps"); }
        if (d.fps) { parts.push(d.fps + " fps"); }
        if (d.width && d.height) { parts.push(d.width + "×" + d.height); }
        if (typeof d.dropped_frames === "number") { parts.push(t("console.health.dropped", { n: d.dropped_frames })); }
      }
      if (d.server === "down") { parts = [t("console.health.down")]; }
      box.dataset.publishing = d.publishing ? "1" : "0";
      box.querySelector('[data-bind="health"]').textContent = parts.join(" · ");
    });
  }
  loadHealth();
  setInterval(loadHealth, 5000);

  // -- frames --------------------------------------------------------------------------

  function setViewers(v) {
    if (!v) { return; }
    live.viewers = typeof v === "object" ? v.now : v;
    if (typeof v === "object" && typeof v.peak === "number") { live.peak = Math.max(live.peak, v.peak); }
    live.peak = Math.max(live.peak, live.viewers);
  }
  function setLikes(v) { if (v !== undefined && v !== null) { live.likes = typeof v === "object" ? v.total : v; } }
  function explainingNo(v) {
    if (v === null || v === undefined) { return null; }
    if (typeof v === "object") { return v.no === null || v.no === undefined ? null : Number(v.no); }
    return Number(v);
  }
  var sales = {};
  function setSale(s) {
    if (!s || !s.id) { return; }
    sales[s.id] = Object.assign({}, sales[s.id] || {}, s);
    // The panel follows the open sale, else the one touched last.
    var open = Object.keys(sales).filter(function (id) { return sales[id].status === "open"; });
    live.sale = open.length ? sales[open[open.length - 1]] : sales[s.id];
    mark("sale");
  }

  function priceOf(skuId) {
    if (live.sale && live.sale.sku_id === skuId && live.sale.status === "open") { return live.sale.price_fen; }
    var l = shelf[skuId];
    return l ? (l.live_price_fen || l.price_fen) : 0;
  }

  function onFrame(f) {
    var d = f.d || {};
    switch (f.t) {
      case "snapshot":
        setViewers(d.viewers); setLikes(d.likes);
        if ("explaining" in d) { live.explaining = explainingNo(d.explaining); }
        (d.shelf || []).forEach(function (l) { if (typeof l.stock === "number") { live.stock[l.sku_id] = l.stock; } });
        if (d.stock) { Object.assign(live.stock, d.stock); }
        (d.sales || []).forEach(setSale);
        if (d.show && d.show.status) { live.status = d.show.status; }
        q("[data-testid=console-chat]").textContent = "";
        (d.chat || []).forEach(function (line) { chatQueue.push(line); });
        mark("explain", "stock", "chat", "status");
        break;
      case "state":
        setViewers(d.viewers); setLikes(d.likes);
        if (d.stock) { Object.assign(live.stock, d.stock); mark("stock"); }
        if ("explaining" in d) { live.explaining = explainingNo(d.explaining); mark("explain"); }
        if (d.sale) { setSale(d.sale); }
        (d.sales || []).forEach(setSale);
        if (d.show && d.show.status && d.show.status !== live.status) { live.status = d.show.status; mark("status"); }
        break;
      case "viewers": setViewers(d); break;
      case "likes": setLikes(d); break;
      case "stock": Object.assign(live.stock, d); mark("stock"); break;
      case "explaining": live.explaining = explainingNo(d); mark("explain"); break;
      case "sale": case "sale_open": setSale(d); break;
      case "sale_close": setSale(Object.assign({ status: "closed" }, d)); break;
      case "sold_out": setSale(Object.assign({}, d, { status: "sold_out", remaining: 0 })); break;
      case "show": live.status = d.status; mark("status"); break;
      case "slow_mode": q("[data-testid=slow-form]").elements.seconds.value = d.seconds; break;
      case "purchase":
        (d.items || []).forEach(function (it) {
          live.orders += 1;
          live.gmv += priceOf(it.sku_id) * (it.quantity || 1);
          if (it.buyer) { live.buyers[it.buyer] = 1; }
        });
        break;
      case "chat": (d.lines || []).forEach(function (line) { chatQueue.push(line); }); mark("chat"); break;
      default: break;
    }
  }

  // -- draw ----------------------------------------------------------------------------

  function draw() {
    var d = dirty;
    dirty = {};
    if (d.explain) {
      root.querySelectorAll("[data-testid=console-line]").forEach(function (li) {
        var on = live.explaining !== null && Number(li.dataset.no) === live.explaining;
        li.classList.toggle("explaining", on);
        var b = li.querySelector("[data-explain]");
        b.textContent = on ? t("console.explaining") : t("console.explain");
        b.className = "btn small" + (on ? "" : " secondary");
      });
    }
    if (d.stock) {
      root.querySelectorAll("[data-stock]").forEach(function (span) {
        var sku = span.dataset.stock;
        if (sku in live.stock) { span.textContent = t("room.stock", { n: live.stock[sku] }); }
      });
    }
    if (d.sale) {
      var box = q("[data-testid=flash-current]");
      var s = live.sale;
      box.hidden = !s;
      if (s) {
        var line = shelf[s.sku_id] || {};
        box.dataset.status = s.status;
        box.dataset.saleId = s.id;
        box.querySelector('[data-bind="flash-current"]').textContent =
          (line.title || s.sku_id) + " · " + R.yuan(s.price_fen) + " · " + s.status + " · " + t("room.sale.left", { n: s.remaining });
      }
    }
    if (d.status) {
      root.dataset.status = live.status;
      q("[data-testid=console-ended]").hidden = live.status !== "ended";
      var badge = q("[data-testid=show-status]");
      badge.className = "badge " + live.status;
      badge.textContent = t("room.status." + live.status);
    }
    if (d.chat) { drawChat(); }
  }

  function drawChat() {
    var list = q("[data-testid=console-chat]");
    var items = chatQueue.slice(-CHAT_KEEP);
    chatQueue = [];
    var frag = document.createDocumentFragment();
    items.forEach(function (line) {
      var li = el("li", "line" + (line.masked ? " masked" : ""));
      li.appendChild(el("span", "cl-who", (line.name || line.display_name || "") + "："));
      li.appendChild(el("span", "cl-text", line.text));
      // The room's own staff cannot be muted or banned there; their lines get no buttons.
      if (line.user_id && ["host", "assistant", "moderator"].indexOf(line.role) < 0) {
        ["mute", "ban"].forEach(function (act) {
          var b = el("button", "modbtn", t("console.mod." + act));
          b.setAttribute("data-testid", "mod-" + act);
          b.type = "button"; b.dataset.act = act; b.dataset.user = line.user_id;
          li.appendChild(b);
        });
      }
      frag.appendChild(li);
    });
    list.appendChild(frag);
    var extra = list.children.length - CHAT_KEEP;
    while (extra-- > 0) { list.removeChild(list.firstChild); }
    list.scrollTop = list.scrollHeight;
  }

  // -- numbers and charts: one sample a second ------------------------------------

  var series = { viewers: [], likes: [], orders: [], gmv: [], conversion: [] };
  var times = [];
  var charts = {};

  function conversion() {
    // Buyers (masked names are a lower bound on distinct buyers) per peak viewer.
    var buyers = Object.keys(live.buyers).length || live.orders;
    return live.peak ? Math.min(100, (100 * buyers) / live.peak) : 0;
  }

  function makeChart(key, box) {
    if (!window.uPlot) { return null; }
    var width = Math.max(60, box.clientWidth);
    return new window.uPlot({
      width: width, height: 36, pxAlign: false, cursor: { show: false }, legend: { show: false },
      select: { show: false },
      scales: { x: { time: false } },
      axes: [{ show: false }, { show: false }],
      series: [{}, { stroke: "#e4393c", width: 1.5, fill: "rgba(228,57,60,.12)", points: { show: false } }]
    }, [[], []], box);
  }

  function sample() {
    var now = Date.now() / 1000;
    times.push(now);
    series.viewers.push(live.viewers);
    series.likes.push(live.likes);
    series.orders.push(live.orders);
    series.gmv.push(live.gmv / 100);
    series.conversion.push(conversion());
    if (times.length > KEEP) {
      times.shift();
      Object.keys(series).forEach(function (k) { series[k].shift(); });
    }
    var text = {
      viewers: String(live.viewers), peak: String(live.peak), likes: String(live.likes),
      orders: String(live.orders), gmv: R.yuan(live.gmv), conversion: conversion().toFixed(1) + "%"
    };
    Object.keys(text).forEach(function (k) {
      var v = q("[data-testid=num-" + k + "]");
      if (v.textContent !== text[k]) { v.textContent = text[k]; }
    });
    if (document.hidden) { return; }
    Object.keys(series).forEach(function (k) {
      if (!charts[k]) {
        var box = q('[data-spark="' + k + '"]');
        charts[k] = makeChart(k, box);
      }
      if (charts[k]) { charts[k].setData([times.slice(), series[k].slice()]); }
    });
  }
  setInterval(sample, 1000);

  // The room's own numbers from the server (viewers now and peak, likes): a console
  // opened mid-show starts from them, not from zero; frames keep them current after.
  R.api("GET", PATHS.numbers).then(function (r) {
    if (!r.ok) { return; }
    setViewers(r.data.viewers);
    if (typeof r.data.likes === "number") { live.likes = Math.max(live.likes, r.data.likes); }
    if (typeof r.data.slow_mode === "number") { q("[data-testid=slow-form]").elements.seconds.value = r.data.slow_mode; }
    if (r.data.notice && r.data.notice.text) { q("[data-testid=notice-input]").value = r.data.notice.text; }
  });

  var conn = q("[data-testid=room-conn]");
  var client = new R.RoomClient({
    showId: showId, onFrame: onFrame,
    onState: function (s) { conn.dataset.state = s; conn.textContent = t("room.conn." + s); }
  });
  R.console = { client: client, live: live };
  client.connect();
  sample();
})();
