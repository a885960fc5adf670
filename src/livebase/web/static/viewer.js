// The viewer page of a live room: renders the room's frames (room.js) on the show page.
// Every frame only records what changed; one draw per animation frame writes the DOM.
(function () {
  "use strict";
  var R = window.LivebaseRoom;
  var root = document.getElementById("room");
  if (!R || !root) { return; }
  var t = R.translator("room-i18n");
  var el = R.el;
  var showId = root.dataset.showId;
  var signedIn = root.dataset.signedIn === "1";
  var q = function (sel) { return root.querySelector(sel); };
  var bind = function (name) { return root.querySelector('[data-bind="' + name + '"]'); };

  // Chat lines kept in the DOM: older ones are removed, a phone scrolls a few screens.
  var CHAT_KEEP = 150;
  // Purchases shown in the ticker at once, and for how long each.
  var TICKER_KEEP = 3;
  var TICKER_MS = 4000;
  // Hearts drawn per animation frame at most, whatever the like rate.
  var HEARTS_PER_DRAW = 3;
  // Taps are sent together: at most one like frame per 300 ms, n capped at 20 (DESIGN §7).
  var LIKE_FLUSH_MS = 300;
  var LIKE_MAX = 20;

  var shelf = {};      // sku_id → line
  var byNo = {};       // no → line
  JSON.parse((document.getElementById("room-shelf") || {}).textContent || "[]").forEach(addLine);
  function addLine(line) { shelf[line.sku_id] = line; byNo[line.no] = line; }

  var state = {
    status: root.dataset.status,
    explaining: root.dataset.explaining ? Number(root.dataset.explaining) : null,
    stock: {}, viewers: null, likes: null,
    sale: null, coupon: null, bag: null, notice: null
  };
  var dirty = {};
  var chatQueue = [];
  var tickerQueue = [];
  var hearts = 0;
  // The critical frames this page applied, in order (read by the browser tests to prove
  // a resume missed nothing; cheap: a room has few critical frames).
  var critical = [];

  function mark() {
    for (var i = 0; i < arguments.length; i++) { dirty[arguments[i]] = true; }
    batch.push(1);
  }

  var batch = new R.Batcher(draw);

  // -- frames → state ------------------------------------------------------------------

  function explainingNo(v) {
    if (v === null || v === undefined) { return null; }
    if (typeof v === "object") { return v.no === undefined || v.no === null ? null : Number(v.no); }
    return Number(v);
  }

  // Sales by id: the card shows the open one, else the next scheduled, else the last
  // that ended (so "sold out" stays on screen until another sale comes).
  var sales = {};
  var saleOrder = [];
  function setSale(s) {
    if (!s || !s.id) { return; }
    if (!sales[s.id]) { saleOrder.push(s.id); }
    sales[s.id] = Object.assign({}, sales[s.id] || {}, s);
    state.sale = currentSale();
    mark("sale");
  }
  function currentSale() {
    var pick = null;
    var i;
    for (i = saleOrder.length - 1; i >= 0; i--) { if (sales[saleOrder[i]].status === "open") { return sales[saleOrder[i]]; } }
    for (i = saleOrder.length - 1; i >= 0; i--) { if (sales[saleOrder[i]].status === "scheduled") { return sales[saleOrder[i]]; } }
    if (saleOrder.length) { pick = sales[saleOrder[saleOrder.length - 1]]; }
    return pick;
  }

  function snapshot(d) {
    var show = d.show || {};
    if (show.status || d.status) { state.status = show.status || d.status; }
    (d.shelf || show.shelf || []).forEach(function (line) {
      addLine(line);
      if (typeof line.stock === "number") { state.stock[line.sku_id] = line.stock; }
    });
    var ex = "explaining" in d ? d.explaining : show.explaining;
    state.explaining = explainingNo(ex);
    if (d.stock) { Object.assign(state.stock, d.stock); }
    if (d.viewers) { state.viewers = d.viewers; }
    if (d.likes) { state.likes = typeof d.likes === "object" ? d.likes.total : d.likes; }
    sales = {};
    saleOrder = [];
    state.sale = null;
    (d.sales || []).forEach(setSale);
    var coupons = d.coupons || [];
    state.coupon = coupons.length ? coupons[coupons.length - 1] : null;
    state.bag = d.bag || null;
    state.notice = d.notice || null;
    var chat = d.chat || d.recent_chat || [];
    chatQueue = [];
    q("[data-testid=chat-list]").textContent = "";
    chat.forEach(function (line) { chatQueue.push({ line: line }); });
    mark("status", "explain", "stock", "numbers", "sale", "coupon", "bag", "notice", "chat");
  }

  function stateFrame(d) {
    if (d.viewers) { state.viewers = d.viewers; mark("numbers"); }
    if (d.likes) { likes(d.likes); }
    if (d.stock) { Object.assign(state.stock, d.stock); mark("stock", "explain", "sale"); }
    if ("explaining" in d) { state.explaining = explainingNo(d.explaining); mark("explain"); }
    if (d.sale) { setSale(d.sale); }
    (d.sales || []).forEach(setSale);
    if (d.show && d.show.status) { state.status = d.show.status; mark("status"); }
  }

  function likes(v) {
    var total = typeof v === "object" ? v.total : v;
    if (typeof state.likes === "number" && total > state.likes) {
      hearts += Math.min(HEARTS_PER_DRAW, total - state.likes);
    }
    state.likes = total;
    mark("numbers", "hearts");
  }

  function onFrame(f) {
    var d = f.d || {};
    if (R.CRITICAL[f.t]) { critical.push({ t: f.t, seq: f.seq, d: d }); }
    switch (f.t) {
      case "snapshot": snapshot(d); break;
      case "state": stateFrame(d); break;
      case "viewers": state.viewers = d; mark("numbers"); break;
      case "likes": likes(d); break;
      case "stock": Object.assign(state.stock, d); mark("stock", "explain", "sale"); break;
      case "explaining": state.explaining = explainingNo(d); mark("explain"); break;
      case "sale": setSale(d); break;
      case "sale_open": setSale(d); break;
      case "sale_close": setSale(Object.assign({ status: "closed" }, d)); break;
      case "sold_out": setSale(Object.assign({}, d, { status: "sold_out", remaining: 0 })); break;
      case "price": price(d); break;
      case "coupon": state.coupon = d; mark("coupon"); break;
      case "bag_start": state.bag = Object.assign({ phase: "running" }, d); mark("bag"); break;
      case "bag_draw": state.bag = Object.assign({}, state.bag || {}, d, { phase: "drawn" }); mark("bag"); break;
      case "notice": state.notice = d; mark("notice"); break;
      case "show": state.status = d.status; mark("status", "explain", "sale"); break;
      case "chat": (d.lines || []).forEach(function (line) { chatQueue.push({ line: line }); }); mark("chat"); break;
      case "purchase": (d.items || []).forEach(function (it) { tickerQueue.push(it); }); mark("ticker"); break;
      case "error": chatQueue.push({ error: f }); mark("chat"); break;
      default: break;
    }
  }

  function price(d) {
    // {sku_id: live_price_fen} or {items: [{sku_id, live_price_fen, no}]}
    var items = d.items || Object.keys(d).map(function (k) { return { sku_id: k, live_price_fen: d[k] }; });
    items.forEach(function (it) {
      var line = shelf[it.sku_id];
      if (line) { line.live_price_fen = it.live_price_fen; if (it.no) { line.no = it.no; byNo[it.no] = line; } }
    });
    mark("explain", "stock");
  }

  // -- draw -------------------------------------------------------------------------

  function draw() {
    var d = dirty;
    dirty = {};
    if (d.status) { drawStatus(); }
    if (d.numbers) { drawNumbers(); }
    if (d.explain) { drawExplain(); }
    if (d.stock) { drawStock(); }
    if (d.sale) { drawSale(); }
    if (d.coupon) { drawCoupon(); }
    if (d.bag) { drawBag(); }
    if (d.notice) { drawNotice(); }
    if (d.chat) { drawChat(); }
    if (d.ticker) { drawTicker(); }
    if (d.hearts) { drawHearts(); }
  }

  function drawStatus() {
    root.dataset.status = state.status;
    var badge = q("[data-testid=show-status]");
    badge.className = "badge " + state.status;
    badge.textContent = t("room.status." + state.status);
    q("[data-testid=show-ended]").hidden = state.status !== "ended";
    if (state.status === "ended") {
      root.querySelectorAll("[data-testid=buy], [data-testid=explain-buy], [data-testid=sale-buy]").forEach(function (b) { b.hidden = true; });
    }
  }

  function drawNumbers() {
    var v = state.viewers;
    bind("viewers").textContent = v ? (typeof v === "object" ? v.now : v) : "–";
    bind("likes").textContent = typeof state.likes === "number" ? compact(state.likes) : "–";
  }

  function compact(n) {
    if (n >= 10000) { return (n / 10000).toFixed(1).replace(/\.0$/, "") + (document.documentElement.lang === "en" ? "w" : "万"); }
    return String(n);
  }

  function stockOf(line) {
    return line.sku_id in state.stock ? state.stock[line.sku_id] : line.stock;
  }

  function drawExplain() {
    var card = q("[data-testid=explain-card]");
    var line = state.explaining !== null ? byNo[state.explaining] : null;
    root.querySelectorAll("[data-testid=shelf-item]").forEach(function (li) {
      // As the server draws it: 讲解中 only while the show is live (not before, not after).
      var on = line && Number(li.dataset.no) === line.no && state.status === "live";
      li.classList.toggle("explaining", !!on);
    });
    if (!line || state.status !== "live") { card.hidden = true; card.dataset.no = ""; return; }
    card.hidden = false;
    card.dataset.no = line.no;
    card.dataset.sku = line.sku_id;
    bind("ex-no").textContent = line.no;
    bind("ex-title").textContent = line.title;
    var live = line.live_price_fen;
    bind("ex-price").textContent = R.yuan(live !== null && live !== undefined ? live : line.price_fen);
    bind("ex-was").textContent = live !== null && live !== undefined && live !== line.price_fen ? R.yuan(line.price_fen) : "";
    var img = card.querySelector("img");
    if (line.thumb_url) { img.src = line.thumb_url; img.hidden = false; } else { img.hidden = true; }
    var n = stockOf(line);
    card.querySelector("[data-testid=explain-stock]").textContent = n > 0 ? t("room.stock", { n: n }) : t("room.sold_out");
    var buy = card.querySelector("[data-testid=explain-buy]");
    buy.href = "/shows/" + showId + "/buy?sku=" + encodeURIComponent(line.sku_id);
    buy.hidden = n <= 0;
  }

  function drawStock() {
    root.querySelectorAll("[data-stock]").forEach(function (span) {
      var sku = span.dataset.stock;
      if (sku in state.stock) { span.textContent = t("room.stock", { n: state.stock[sku] }); }
    });
  }

  // The sale card's countdown ticks every second without a frame.
  setInterval(function () { if (state.sale || (state.bag && state.bag.phase === "running")) { mark("sale", "bag"); } }, 1000);

  function drawSale() {
    var card = q("[data-testid=sale-card]");
    var s = state.sale;
    if (!s) { card.hidden = true; return; }
    card.hidden = false;
    card.dataset.saleId = s.id;
    card.dataset.status = s.status;
    var line = shelf[s.sku_id];
    bind("sale-title").textContent = line ? line.title : s.title || "";
    bind("sale-price").textContent = R.yuan(s.price_fen);
    var img = card.querySelector("img");
    if (line && line.thumb_url) { img.src = line.thumb_url; img.hidden = false; }
    var rem = card.querySelector("[data-testid=sale-remaining]");
    var cd = card.querySelector("[data-testid=sale-countdown]");
    var buy = card.querySelector("[data-testid=sale-buy]");
    if (s.status === "open") {
      rem.textContent = t("room.sale.left", { n: s.remaining });
      var left = R.remainingMs(s.ends_at);
      cd.textContent = left === null ? "" : t("room.sale.ends_in", { t: R.clock(left) });
      buy.disabled = state.status === "ended" || s.remaining <= 0 || !!grabbed[s.id];
    } else if (s.status === "scheduled") {
      rem.textContent = t("room.sale.left", { n: s.remaining });
      cd.textContent = s.starts_at ? t("room.sale.starts_in", { t: R.clock(R.remainingMs(s.starts_at)) }) : "";
      buy.disabled = true;
    } else {
      rem.textContent = "";
      cd.textContent = s.status === "sold_out" ? t("room.sale.sold_out") : t("room.sale.closed");
      buy.disabled = true;
    }
  }

  var saleKeys = {};  // one Idempotency-Key per sale: a double tap is one order
  var grabbed = {};   // sales this page already got a unit of
  function grab() {
    var s = state.sale;
    if (!s) { return; }
    if (!signedIn) { location.href = root.dataset.login; return; }
    var buy = q("[data-testid=sale-buy]");
    var msg = q("[data-testid=sale-msg]");
    saleKeys[s.id] = saleKeys[s.id] || R.newKey();
    buy.disabled = true;
    buy.textContent = t("room.grabbing");
    R.api("POST", "/shows/" + showId + "/flash-sales/" + s.id + "/grab", undefined,
      { "Idempotency-Key": saleKeys[s.id] }).then(function (r) {
      buy.textContent = t("room.grab");
      msg.hidden = false;
      msg.textContent = "";
      msg.dataset.result = r.ok ? "ok" : r.data.error || "failed";
      if (r.ok) {
        grabbed[s.id] = true;
        buy.textContent = t("room.got_it");
        msg.appendChild(document.createTextNode(t("room.grabbed") + " "));
        var a = el("a", "btn small", t("room.pay_now"));
        a.href = "/me/orders/" + r.data.id;
        a.setAttribute("data-testid", "sale-order");
        msg.appendChild(a);
        return;
      }
      buy.disabled = false;
      if (r.data.error === "validation_failed" && /address/.test(JSON.stringify(r.data.fields || ""))) {
        var add = el("a", "btn small secondary", t("room.err.need_address"));
        add.href = "/me/addresses?next=" + encodeURIComponent("/shows/" + showId);
        msg.appendChild(add);
        return;
      }
      if (r.data.error !== "idempotency_conflict") { delete saleKeys[s.id]; }
      msg.textContent = explain(r.data);
    });
  }
  q("[data-testid=sale-buy]").addEventListener("click", grab);

  function explain(err) {
    if (err.error === "rate_limited" && /slow mode/i.test(err.detail || "")) { return t("room.err.slow_mode"); }
    var key = "room.err." + err.error;
    var text = t(key);
    return text === key ? t("room.err.other", { detail: err.detail || err.error || "" }) : text;
  }

  function drawCoupon() {
    var card = q("[data-testid=coupon-card]");
    var c = state.coupon;
    if (!c) { card.hidden = true; return; }
    card.hidden = false;
    card.dataset.couponId = c.id;
    bind("coupon-title").textContent = c.kind === "percent"
      ? t("room.coupon.percent", { n: c.percent })
      : t("room.coupon.amount", { amount: R.yuan(c.amount_fen) });
    bind("coupon-cond").textContent = (c.min_spend_fen ? t("room.coupon.min", { amount: R.yuan(c.min_spend_fen) }) : t("room.coupon.none_min"))
      + (typeof c.remaining === "number" ? " · " + t("room.coupon.left", { n: c.remaining }) : "");
  }

  var couponKeys = {};
  q("[data-testid=coupon-claim]").addEventListener("click", function () {
    var c = state.coupon;
    if (!c) { return; }
    if (!signedIn) { location.href = root.dataset.login; return; }
    var msg = q("[data-testid=coupon-msg]");
    couponKeys[c.id] = couponKeys[c.id] || R.newKey();
    R.api("POST", "/api/v1/coupons/" + encodeURIComponent(c.id) + "/claims", undefined,
      { "Idempotency-Key": couponKeys[c.id] }).then(function (r) {
      msg.hidden = false;
      msg.dataset.result = r.ok ? "ok" : r.data.error;
      msg.textContent = r.ok ? t("room.coupon.claimed") : explain(r.data);
      if (r.ok) { q("[data-testid=coupon-claim]").disabled = true; }
    });
  });

  function drawBag() {
    var card = q("[data-testid=bag-card]");
    var b = state.bag;
    if (!b) { card.hidden = true; return; }
    card.hidden = false;
    card.dataset.bagId = b.id || "";
    card.dataset.phase = b.phase || "running";
    var winners = b.winners_count || (typeof b.winners === "number" ? b.winners : b.winner_count) || "";
    bind("bag-prize").textContent = winners ? t("room.bag.prize", { prize: b.prize, n: winners }) : (b.prize || "");
    var cond = b.condition || {};
    var kind = typeof cond === "string" ? cond : cond.kind;
    var phrase = b.phrase || cond.phrase || "";
    bind("bag-cond").textContent = kind === "follow" ? t("room.bag.cond.follow") : t("room.bag.cond.chat", { phrase: phrase });
    var cd = q("[data-testid=bag-countdown]");
    var result = q("[data-testid=bag-result]");
    var join = q("[data-testid=bag-join]");
    if (b.phase === "drawn") {
      join.hidden = true;
      cd.textContent = "";
      result.hidden = false;
      if (result.dataset.bag === String(b.id)) { return; }
      result.dataset.bag = b.id;
      result.textContent = "";
      var list = Array.isArray(b.winners) ? b.winners : [];
      var names = list.map(function (w) { return typeof w === "object" ? (w.name || w.display_name || w.user_id) : w; });
      result.appendChild(el("div", "", names.length ? t("room.bag.winners", { names: names.join("、") }) : t("room.bag.none")));
      var a = el("a", "small", t("room.bag.verify"));
      a.href = "/lucky-bags/" + encodeURIComponent(b.id);
      a.setAttribute("data-testid", "bag-verify");
      result.appendChild(a);
    } else {
      result.hidden = true;
      join.hidden = false;
      join.dataset.kind = kind;
      join.textContent = kind === "follow" ? t("room.bag.follow") : t("room.bag.send", { phrase: phrase });
      join.disabled = !!joined[b.id];
      var left = R.remainingMs(b.ends_at || b.draw_at);
      cd.textContent = left === null ? "" : (left > 0 ? t("room.bag.ends_in", { t: R.clock(left) }) : t("room.bag.drawing"));
    }
  }

  // Joining a bag: the chat condition sends its phrase as a chat line (the server counts
  // lines, not taps); the follow condition follows the host.
  var joined = {};
  q("[data-testid=bag-join]").addEventListener("click", function () {
    var b = state.bag;
    if (!b || b.phase === "drawn") { return; }
    if (!signedIn) { location.href = root.dataset.login; return; }
    var msg = q("[data-testid=bag-msg]");
    if ((b.condition || "chat") === "follow") {
      R.api("POST", "/api/v1/hosts/" + encodeURIComponent(b.host_id) + "/follow").then(function (r) {
        msg.hidden = false;
        msg.textContent = r.ok ? t("room.bag.joined") : explain(r.data);
        if (r.ok) { joined[b.id] = true; mark("bag"); }
      });
      return;
    }
    if (client.send({ t: "chat", text: b.phrase })) {
      joined[b.id] = true;
      msg.hidden = false;
      msg.textContent = t("room.bag.joined");
      mark("bag");
    }
  });

  function drawNotice() {
    var n = q("[data-testid=notice-banner]");
    var text = state.notice && (state.notice.text || state.notice.notice);
    n.hidden = !text;
    n.textContent = text || "";
  }

  function chatLine(line) {
    var li = el("li", "line" + (line.role && line.role !== "viewer" ? " staff " + line.role : ""));
    var name = line.name || line.display_name || line.user || "";
    if (name) { li.appendChild(el("span", "cl-who", name + "：")); }
    li.appendChild(el("span", "cl-text", line.text));
    if (line.masked) {
      li.classList.add("masked");
      li.appendChild(el("span", "tag", t("room.chat.masked")));
    }
    if (line.id) { li.dataset.id = line.id; }
    return li;
  }

  function refusal(f) {
    var li = el("li", "line system " + (f.error || ""));
    li.setAttribute("data-testid", "chat-refusal");
    li.dataset.error = f.error || "";
    li.appendChild(el("span", "cl-text", explain(f)));
    li.appendChild(el("span", "tag", t("room.chat.you")));
    return li;
  }

  function drawChat() {
    var list = q("[data-testid=chat-list]");
    var items = chatQueue;
    chatQueue = [];
    if (items.length > CHAT_KEEP) { items = items.slice(items.length - CHAT_KEEP); }
    var stick = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    var frag = document.createDocumentFragment();
    items.forEach(function (it) { frag.appendChild(it.error ? refusal(it.error) : chatLine(it.line)); });
    list.appendChild(frag);
    var extra = list.children.length - CHAT_KEEP;
    while (extra-- > 0) { list.removeChild(list.firstChild); }
    if (stick) { list.scrollTop = list.scrollHeight; }
  }

  function drawTicker() {
    var box = q("[data-testid=ticker]");
    var items = tickerQueue.slice(-TICKER_KEEP);
    tickerQueue = [];
    items.forEach(function (it) {
      var title = it.title || (shelf[it.sku_id] || {}).title || "";
      var li = el("li", "tick", t("room.just_bought", { buyer: it.buyer || "", title: title }) + (it.quantity > 1 ? " ×" + it.quantity : ""));
      box.appendChild(li);
      setTimeout(function () { if (li.parentNode) { li.parentNode.removeChild(li); } }, TICKER_MS);
    });
    while (box.children.length > TICKER_KEEP) { box.removeChild(box.firstChild); }
  }

  function drawHearts() {
    var box = q(".hearts");
    var n = Math.min(hearts, HEARTS_PER_DRAW);
    hearts = 0;
    for (var i = 0; i < n; i++) {
      var h = el("span", "heart", "♥");
      h.style.left = (10 + Math.random() * 60) + "%";
      h.style.setProperty("--hue", String(Math.floor(Math.random() * 60) - 20));
      h.addEventListener("animationend", function (e) { e.target.remove(); });
      box.appendChild(h);
    }
  }

  // -- input -----------------------------------------------------------------------

  var form = q("[data-testid=chat-form]");
  if (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var input = form.querySelector("input");
      var text = input.value.trim();
      if (!text) { return; }
      if (client.send({ t: "chat", text: text })) { input.value = ""; }
    });
  }

  var taps = 0;
  var likeTimer = null;
  q("[data-testid=like]").addEventListener("click", function () {
    if (!signedIn) { chatQueue.push({ error: { error: "unauthenticated" } }); mark("chat"); return; }
    taps += 1;
    hearts += 1;
    mark("hearts");
    if (likeTimer) { return; }
    likeTimer = setTimeout(function () {
      likeTimer = null;
      while (taps > 0) {
        var n = Math.min(LIKE_MAX, taps);
        taps -= n;
        client.send({ t: "like", n: n });
      }
    }, LIKE_FLUSH_MS);
  });

  // -- connection ------------------------------------------------------------------

  var conn = q("[data-testid=room-conn]");
  var client = new R.RoomClient({
    showId: showId,
    onFrame: onFrame,
    onState: function (s) {
      conn.dataset.state = s;
      conn.textContent = t("room.conn." + s);
    }
  });
  R.viewer = { client: client, state: state, critical: critical, sales: function () { return sales; } };
  client.connect();
})();
