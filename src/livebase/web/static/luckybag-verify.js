// The lucky bag's verify page: a countdown while the bag is open, and once it is drawn an
// independent recomputation of the draw from what the API publishes (docs/luckybag.md):
//   SHA-256(seed) == seed_hash; SHA-256(entrants joined by "\n") == entrants_digest;
//   for i = 0..: h = SHA-256(seed || i as 8 bytes big-endian), j = h mod len(pool),
//   winner = pool.splice(j, 1).
// Web Crypto's SHA-256 needs a secure context (https or localhost); elsewhere a small
// SHA-256 below does the same (a viewer on a LAN address must still be able to check).
(function () {
  "use strict";
  const bag = JSON.parse(document.getElementById("bag-data").textContent);
  const words = JSON.parse(document.getElementById("bag-words").textContent);

  // -- SHA-256 ---------------------------------------------------------------------------
  const K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);
  function sha256Fallback(bytes) {
    const n = bytes.length;
    const total = Math.ceil((n + 9) / 64) * 64;
    const m = new Uint8Array(total);
    m.set(bytes);
    m[n] = 0x80;
    const bits = n * 8;
    const dv = new DataView(m.buffer);
    dv.setUint32(total - 8, Math.floor(bits / 0x100000000));
    dv.setUint32(total - 4, bits >>> 0);
    const H = new Uint32Array([
      0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]);
    const W = new Uint32Array(64);
    const rotr = (x, r) => (x >>> r) | (x << (32 - r));
    for (let off = 0; off < total; off += 64) {
      for (let t = 0; t < 16; t++) W[t] = dv.getUint32(off + t * 4);
      for (let t = 16; t < 64; t++) {
        const a = W[t - 15], b = W[t - 2];
        const s0 = rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3);
        const s1 = rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10);
        W[t] = (W[t - 16] + s0 + W[t - 7] + s1) >>> 0;
      }
      let [a, b, c, d, e, f, g, h] = H;
      for (let t = 0; t < 64; t++) {
        const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        const ch = (e & f) ^ (~e & g);
        const t1 = (h + S1 + ch + K[t] + W[t]) >>> 0;
        const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        const mj = (a & b) ^ (a & c) ^ (b & c);
        const t2 = (S0 + mj) >>> 0;
        h = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
      }
      H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
    }
    const out = new Uint8Array(32);
    const ov = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) ov.setUint32(i * 4, H[i]);
    return out;
  }
  async function sha256(bytes) {
    if (window.crypto && window.crypto.subtle) {
      return new Uint8Array(await window.crypto.subtle.digest("SHA-256", bytes));
    }
    return sha256Fallback(bytes);
  }
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const unhex = (s) => new Uint8Array((s.match(/../g) || []).map((x) => parseInt(x, 16)));

  // -- the draw ----------------------------------------------------------------------------
  async function drawWinners(seed, ids, k) {
    const pool = ids.slice();
    const winners = [];
    const msg = new Uint8Array(seed.length + 8);
    msg.set(seed);
    const view = new DataView(msg.buffer);
    for (let i = 0; winners.length < k && pool.length > 0; i++) {
      view.setUint32(seed.length, Math.floor(i / 0x100000000));
      view.setUint32(seed.length + 4, i >>> 0);
      const h = BigInt("0x" + hex(await sha256(msg)));
      const j = Number(h % BigInt(pool.length));
      winners.push(pool.splice(j, 1)[0]);
    }
    return winners;
  }

  async function verify() {
    const box = document.querySelector('[data-testid="verify-result"]');
    if (!box) return;
    const problems = [];
    try {
      const r = await fetch(`/api/v1/lucky-bags/${encodeURIComponent(bag.id)}/entrants.txt`);
      if (!r.ok) throw new Error(`entrants: HTTP ${r.status}`);
      const text = await r.text();
      const ids = text === "" ? [] : text.split("\n");
      const seed = unhex(bag.seed || "");
      if (hex(await sha256(seed)) !== bag.seed_hash) problems.push("SHA-256(seed) ≠ seed_hash");
      const sorted = ids.slice().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      if (sorted.join("\n") !== ids.join("\n")) problems.push("entrants are not sorted");
      if (new Set(ids).size !== ids.length) problems.push("entrants repeat");
      const digest = hex(await sha256(new TextEncoder().encode(ids.join("\n"))));
      if (digest !== bag.entrants_digest) problems.push("SHA-256(entrants) ≠ entrants_digest");
      if (ids.length !== bag.entrants_count) problems.push("entrants_count differs");
      const want = await drawWinners(seed, ids, bag.winners_count);
      const got = bag.winners.map((w) => w.user_id);
      if (want.join(",") !== got.join(",")) {
        problems.push(`winners: recomputed ${want.join(" ") || "—"}; published ${got.join(" ") || "—"}`);
      }
    } catch (err) {
      problems.push(String(err));
    }
    box.classList.remove("wait");
    box.classList.add(problems.length ? "bad" : "ok");
    box.dataset.ok = problems.length ? "0" : "1";
    box.textContent = problems.length ? words.mismatch : words.verified;
    if (problems.length) {
      const ul = document.createElement("ul");
      for (const p of problems) {
        const li = document.createElement("li");
        li.textContent = p;
        ul.appendChild(li);
      }
      box.appendChild(ul);
    }
  }

  // -- while open: the countdown, then wait for the draw -----------------------------------
  function countdown() {
    const el = document.querySelector('[data-testid="countdown"]');
    if (!el) return;
    const end = Date.parse(el.dataset.endsAt);
    const tick = () => {
      const left = Math.max(0, Math.round((end - Date.now()) / 1000));
      el.textContent = left > 0
        ? `${String(Math.floor(left / 60)).padStart(2, "0")}:${String(left % 60).padStart(2, "0")}`
        : words.drawing;
    };
    tick();
    setInterval(tick, 1000);
    // Poll for the draw (early or timed); 3 s keeps a page left open cheap for the server.
    const poll = async () => {
      try {
        const r = await fetch(`/api/v1/lucky-bags/${encodeURIComponent(bag.id)}`);
        if (r.ok && (await r.json()).status === "drawn") return location.reload();
      } catch (err) { /* offline for a moment: try again */ }
      setTimeout(poll, 3000);
    };
    setTimeout(poll, 3000);
  }

  if (bag.status === "drawn") verify();
  else countdown();
})();
