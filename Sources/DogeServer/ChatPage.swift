/// The chat page served at `/`: HTML, CSS and JavaScript in one document, no external resources,
/// so it works offline. Talks to /v1/chat/completions (streamed) and /api/conversations.
enum ChatPage {
    static let html = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
    <title>doge chat</title>
    <style>
    :root { --bg:#f6f5f1; --panel:#fff; --ink:#1d1d1b; --muted:#6b6b66; --line:#e2e0d8; --accent:#b5651d; --user:#efe9dc; }
    * { box-sizing: border-box; }
    body { margin:0; font:15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--ink); background:var(--bg);
           display:grid; grid-template-columns:260px 1fr; height:100vh; }
    aside { border-right:1px solid var(--line); background:var(--panel); display:flex; flex-direction:column; min-height:0; }
    aside header { padding:14px; font-weight:700; font-size:18px; display:flex; gap:8px; align-items:center; }
    aside header span { flex:1; }
    #conv-list { list-style:none; margin:0; padding:0 8px; overflow-y:auto; flex:1; }
    #conv-list li { padding:8px 10px; border-radius:8px; cursor:pointer; display:flex; gap:4px; align-items:center; }
    #conv-list li:hover { background:var(--bg); }
    #conv-list li.active { background:var(--user); }
    #conv-list li .title { flex:1; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
    #conv-list li button { visibility:hidden; }
    #conv-list li:hover button, #conv-list li.active button { visibility:visible; }
    .tools { padding:10px; border-top:1px solid var(--line); display:flex; gap:6px; flex-wrap:wrap; }
    button { font:inherit; border:1px solid var(--line); background:var(--panel); border-radius:8px; padding:5px 10px; cursor:pointer; }
    button.icon { border:none; background:none; padding:2px 4px; color:var(--muted); }
    button.primary { background:var(--accent); color:#fff; border-color:var(--accent); }
    button:disabled { opacity:.5; cursor:default; }
    main { display:grid; grid-template-rows:auto 1fr auto; min-height:0; }
    #settings { padding:8px 16px; border-bottom:1px solid var(--line); display:flex; gap:14px; flex-wrap:wrap; align-items:center;
                font-size:13px; color:var(--muted); background:var(--panel); }
    #settings label { display:flex; gap:6px; align-items:center; }
    #settings input[type=number] { width:70px; }
    #settings textarea { width:340px; height:32px; font:inherit; resize:vertical; }
    #messages { overflow-y:auto; padding:20px max(16px, calc(50% - 380px)); }
    .msg { margin:0 0 14px; padding:10px 14px; border-radius:12px; background:var(--panel); border:1px solid var(--line); position:relative; }
    .msg.user { background:var(--user); margin-left:15%; }
    .msg .meta { font-size:12px; color:var(--muted); margin-top:6px; display:flex; gap:10px; }
    .msg .body p { margin:.4em 0; }
    .msg pre { background:#25231f; color:#f3efe6; padding:10px; border-radius:8px; overflow-x:auto; }
    .msg code { font-family: ui-monospace, Menlo, monospace; font-size:13px; }
    .msg :not(pre) > code { background:#0001; padding:1px 4px; border-radius:4px; }
    .msg textarea { width:100%; min-height:70px; font:inherit; }
    #composer { padding:12px max(16px, calc(50% - 380px)); border-top:1px solid var(--line); background:var(--panel); display:flex; gap:8px; }
    #input { flex:1; min-height:44px; max-height:200px; font:inherit; padding:10px; border-radius:10px; border:1px solid var(--line); resize:vertical; }
    #empty { color:var(--muted); text-align:center; margin-top:20vh; }
    </style></head>
    <body>
    <aside>
      <header><span>doge</span><button id="new-chat" class="primary" title="New chat">+ New</button></header>
      <ul id="conv-list"></ul>
      <div class="tools">
        <button id="export">Export</button>
        <button id="import-button">Import</button><input id="import" type="file" accept="application/json" hidden>
      </div>
    </aside>
    <main>
      <div id="settings">
        <label>System <textarea id="system" placeholder="System prompt (optional)"></textarea></label>
        <label>Temperature <input id="temperature" type="number" min="0" max="2" step="0.1"></label>
        <label>Top-p <input id="top-p" type="number" min="0.01" max="1" step="0.05"></label>
        <label>Max tokens <input id="max-tokens" type="number" min="1" max="4096" step="1"></label>
        <label>API key <input id="api-key" type="password" size="10" placeholder="if the server needs one"></label>
      </div>
      <div id="messages"><div id="empty">Start a conversation below.</div></div>
      <form id="composer">
        <textarea id="input" placeholder="Message (Enter to send, Shift+Enter for a new line)"></textarea>
        <button id="send" class="primary" type="submit">Send</button>
        <button id="stop" type="button" disabled>Stop</button>
      </form>
    </main>
    <script>
    "use strict";
    const $ = (id) => document.getElementById(id);
    const state = { list: [], current: null, controller: null, defaults: {} };

    function headers() {
      const h = { "Content-Type": "application/json" };
      const key = localStorage.getItem("doge.apiKey");
      if (key) h["Authorization"] = "Bearer " + key;
      return h;
    }
    async function api(method, path, body) {
      const r = await fetch(path, { method, headers: headers(), body: body === undefined ? undefined : JSON.stringify(body) });
      const data = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error((data.error && data.error.message) || r.statusText);
      return data;
    }

    // --- markdown: paragraphs, lists, code blocks, headings, bold, italics, inline code ---
    function escapeHTML(s) { return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c])); }
    function inline(s) {
      return escapeHTML(s)
        .replace(/`([^`]+)`/g, "<code>$1</code>")
        .replace(/\\*\\*([^*]+)\\*\\*/g, "<strong>$1</strong>")
        .replace(/__([^_]+)__/g, "<strong>$1</strong>")
        .replace(/(^|[^*])\\*([^*\\s][^*]*)\\*/g, "$1<em>$2</em>");
    }
    function markdown(text) {
      const out = [];
      const lines = text.split("\\n");
      let i = 0;
      while (i < lines.length) {
        const line = lines[i];
        if (/^```/.test(line)) {
          const code = [];
          i++;
          while (i < lines.length && !/^```/.test(lines[i])) code.push(lines[i++]);
          i++;
          out.push("<pre><code>" + escapeHTML(code.join("\\n")) + "</code></pre>");
        } else if (/^\\s*([-*+]|\\d+[.)])\\s+/.test(line)) {
          const ordered = /^\\s*\\d+[.)]/.test(line);
          const items = [];
          while (i < lines.length && /^\\s*([-*+]|\\d+[.)])\\s+/.test(lines[i])) items.push(lines[i++].replace(/^\\s*([-*+]|\\d+[.)])\\s+/, ""));
          const tag = ordered ? "ol" : "ul";
          out.push("<" + tag + ">" + items.map((t) => "<li>" + inline(t) + "</li>").join("") + "</" + tag + ">");
        } else if (/^#{1,6}\\s/.test(line)) {
          const level = line.match(/^#+/)[0].length;
          out.push("<h" + level + ">" + inline(line.replace(/^#+\\s/, "")) + "</h" + level + ">");
          i++;
        } else if (line.trim() === "") {
          i++;
        } else {
          const para = [];
          while (i < lines.length && lines[i].trim() !== "" && !/^```|^\\s*([-*+]|\\d+[.)])\\s+|^#{1,6}\\s/.test(lines[i])) para.push(lines[i++]);
          out.push("<p>" + para.map(inline).join("<br>") + "</p>");
        }
      }
      return out.join("");
    }

    // --- conversations ---
    async function refreshList() {
      state.list = (await api("GET", "/api/conversations")).data;
      const ul = $("conv-list");
      ul.innerHTML = "";
      for (const c of state.list) {
        const li = document.createElement("li");
        li.dataset.id = c.id;
        if (state.current && c.id === state.current.id) li.classList.add("active");
        li.innerHTML = '<span class="title"></span><button class="icon rename" title="Rename">✎</button><button class="icon delete" title="Delete">✕</button>';
        li.querySelector(".title").textContent = c.title;
        li.onclick = (e) => { if (e.target.tagName !== "BUTTON") openConversation(c.id); };
        li.querySelector(".rename").onclick = async () => {
          const title = prompt("Rename conversation", c.title);
          if (title) { await api("PATCH", "/api/conversations/" + c.id, { title }); if (state.current && state.current.id === c.id) state.current.title = title; refreshList(); }
        };
        li.querySelector(".delete").onclick = async () => {
          if (!confirm("Delete “" + c.title + "”?")) return;
          await api("DELETE", "/api/conversations/" + c.id);
          if (state.current && state.current.id === c.id) newConversation();
          refreshList();
        };
        ul.appendChild(li);
      }
    }
    async function openConversation(id) {
      if (state.controller) return;
      state.current = await api("GET", "/api/conversations/" + id);
      $("system").value = state.current.system || "";
      location.hash = id;
      render();
      refreshList();
    }
    function newConversation() {
      if (state.controller) return;
      state.current = null;
      $("system").value = "";
      history.replaceState(null, "", location.pathname);
      render();
      refreshList();
    }
    async function saveConversation() {
      const c = state.current;
      const body = { title: c.title, system: $("system").value, messages: c.messages.map((m) => {
        const o = { role: m.role, content: m.content };
        if (m.tokens_per_second) o.tokens_per_second = m.tokens_per_second;
        return o;
      }) };
      if (!c.id) { const saved = await api("POST", "/api/conversations", body); c.id = saved.id; location.hash = c.id; }
      else await api("PUT", "/api/conversations/" + c.id, body);
      refreshList();
    }

    // --- rendering ---
    function render() {
      const box = $("messages");
      box.innerHTML = "";
      const messages = state.current ? state.current.messages : [];
      if (!messages.length) { box.innerHTML = '<div id="empty">Start a conversation below.</div>'; return; }
      messages.forEach((m, i) => box.appendChild(messageElement(m, i)));
      box.scrollTop = box.scrollHeight;
    }
    function messageElement(m, i) {
      const div = document.createElement("div");
      div.className = "msg " + m.role;
      const body = document.createElement("div");
      body.className = "body";
      body.innerHTML = markdown(m.content || "");
      div.appendChild(body);
      const meta = document.createElement("div");
      meta.className = "meta";
      if (m.role === "assistant" && m.tokens_per_second) {
        const s = document.createElement("span"); s.className = "speed"; s.textContent = m.tokens_per_second.toFixed(1) + " tokens/s"; meta.appendChild(s);
      }
      const last = i === state.current.messages.length - 1;
      if (m.role === "assistant" && last) {
        const b = document.createElement("button"); b.className = "icon regenerate"; b.textContent = "↻ Regenerate";
        b.onclick = () => { if (state.controller) return; state.current.messages.pop(); render(); generate(); };
        meta.appendChild(b);
      }
      if (m.role === "user") {
        const b = document.createElement("button"); b.className = "icon edit"; b.textContent = "✎ Edit";
        b.onclick = () => editTurn(div, i);
        meta.appendChild(b);
      }
      div.appendChild(meta);
      return div;
    }
    function editTurn(div, i) {
      if (state.controller) return;
      const m = state.current.messages[i];
      div.innerHTML = "";
      const area = document.createElement("textarea"); area.value = m.content; div.appendChild(area);
      const save = document.createElement("button"); save.textContent = "Save & regenerate"; save.className = "primary";
      const cancel = document.createElement("button"); cancel.textContent = "Cancel";
      save.onclick = () => { m.content = area.value; state.current.messages = state.current.messages.slice(0, i + 1); render(); generate(); };
      cancel.onclick = render;
      div.appendChild(save); div.appendChild(cancel);
      area.focus();
    }

    // --- generation (streamed) ---
    async function send(text) {
      if (state.controller || !text.trim()) return;
      if (!state.current) state.current = { id: null, title: text.trim().slice(0, 60), system: "", messages: [] };
      state.current.messages.push({ role: "user", content: text });
      render();
      await generate();
    }
    function settings() {
      const out = {};
      const t = parseFloat($("temperature").value), p = parseFloat($("top-p").value), n = parseInt($("max-tokens").value, 10);
      if (!isNaN(t)) out.temperature = t;
      if (!isNaN(p)) out.top_p = p;
      if (!isNaN(n)) out.max_tokens = n;
      return out;
    }
    async function generate() {
      const c = state.current;
      const system = $("system").value.trim();
      const messages = (system ? [{ role: "system", content: system }] : []).concat(c.messages.map((m) => ({ role: m.role, content: m.content })));
      const reply = { role: "assistant", content: "" };
      c.messages.push(reply);
      render();
      const el = $("messages").lastChild, body = el.querySelector(".body");
      state.controller = new AbortController();
      $("send").disabled = true; $("stop").disabled = false;
      let first = null, tokens = 0;
      try {
        const r = await fetch("/v1/chat/completions", { method: "POST", headers: headers(), signal: state.controller.signal,
          body: JSON.stringify(Object.assign({ messages, stream: true, stream_options: { include_usage: true } }, settings())) });
        if (!r.ok) { const e = await r.json().catch(() => ({})); throw new Error((e.error && e.error.message) || r.statusText); }
        const reader = r.body.getReader(), decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut;
          while ((cut = buffer.indexOf("\\n\\n")) >= 0) {
            const event = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
            if (!event.startsWith("data: ")) continue;
            const data = event.slice(6);
            if (data === "[DONE]") continue;
            const chunk = JSON.parse(data);
            if (chunk.error) throw new Error(chunk.error.message);
            if (chunk.usage) tokens = chunk.usage.completion_tokens;
            const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
            if (delta && delta.content) {
              if (first === null) first = performance.now();
              reply.content += delta.content;
              body.innerHTML = markdown(reply.content);
              $("messages").scrollTop = $("messages").scrollHeight;
            }
          }
        }
      } catch (e) {
        if (e.name !== "AbortError") reply.content += (reply.content ? "\\n\\n" : "") + "⚠️ " + e.message;
      } finally {
        const seconds = first === null ? 0 : (performance.now() - first) / 1000;
        if (tokens > 1 && seconds > 0) reply.tokens_per_second = (tokens - 1) / seconds;
        state.controller = null;
        $("send").disabled = false; $("stop").disabled = true;
        render();
        await saveConversation().catch((e) => console.error(e));
      }
    }

    // --- wiring ---
    $("composer").onsubmit = (e) => { e.preventDefault(); const t = $("input").value; $("input").value = ""; send(t); };
    $("input").onkeydown = (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("composer").requestSubmit(); } };
    $("stop").onclick = () => { if (state.controller) state.controller.abort(); };
    $("new-chat").onclick = newConversation;
    $("api-key").value = localStorage.getItem("doge.apiKey") || "";
    $("api-key").onchange = () => { localStorage.setItem("doge.apiKey", $("api-key").value); refreshList().catch(() => {}); };
    for (const [id, key] of [["temperature", "doge.temperature"], ["top-p", "doge.topP"], ["max-tokens", "doge.maxTokens"]]) {
      const saved = localStorage.getItem(key);
      if (saved !== null) $(id).value = saved;
      $(id).onchange = () => localStorage.setItem(key, $(id).value);
    }
    $("export").onclick = async () => {
      const data = await api("GET", "/api/conversations/export");
      const a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
      a.download = "doge-conversations.json"; a.click();
    };
    $("import-button").onclick = () => $("import").click();
    $("import").onchange = async () => {
      const file = $("import").files[0]; if (!file) return;
      try { const r = await api("POST", "/api/conversations/import", JSON.parse(await file.text())); alert("Imported " + r.imported + " conversation(s)"); }
      catch (e) { alert("Import failed: " + e.message); }
      $("import").value = ""; refreshList();
    };
    (async () => {
      try {
        const props = await fetch("/props", { headers: headers() }).then((r) => r.json());
        const d = props.default_generation_settings || {};
        if ($("temperature").value === "" && d.temperature !== undefined) $("temperature").placeholder = d.temperature;
        if ($("top-p").value === "" && d.top_p !== undefined) $("top-p").placeholder = d.top_p;
        if ($("max-tokens").value === "" && d.max_tokens !== undefined) $("max-tokens").placeholder = d.max_tokens;
      } catch (e) {}
      await refreshList().catch(() => {});
      const id = location.hash.slice(1);
      if (id && state.list.some((c) => c.id === id)) openConversation(id); else render();
    })();
    </script>
    </body></html>
    """
}
