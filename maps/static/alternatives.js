/* regiomatch "Alternatieven": start an ensemble or a proposal search, follow its progress, cancel
 * it, save a plan as a scenario. One vanilla script, no build step, no inline JavaScript (CSP):
 * each page carries its data as JSON in <script type="application/json" id="alt-data">.
 * Everything the user reads is Dutch; the results themselves are rendered by the server.
 */
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }
  function readData() { var node = byId("alt-data"); return node ? JSON.parse(node.textContent) : null; }
  function pct(share) { return Math.round(Number(share) * 100) + " %"; }

  function headers(data) {
    var h = { "Content-Type": "application/json" };
    if (data.writer && data.writer.csrf) { h["X-CSRF-Token"] = data.writer.csrf; }
    return h;
  }

  function send(url, method, body, data) {
    return fetch(url, { method: method, headers: headers(data), body: body === null ? undefined : JSON.stringify(body),
                        credentials: "same-origin" })
      .then(function (response) {
        return response.text().then(function (text) {
          var parsed = null;
          try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = { detail: text }; }
          return { ok: response.ok, status: response.status, body: parsed };
        });
      });
  }

  function problem(res) {
    if (res.status === 401) { return "Om dit te doen moet u zich eerst aanmelden."; }
    var code = res.body && res.body.code;
    if (code === "unknown_nis_code") {
      var nis = String(res.body.detail || "").match(/\d{5}/);
      return "Onbekende NIS-code" + (nis ? " " + nis[0] : "") + " bij de vaste gemeenten of de groepen: gebruik de codes van 2025.";
    }
    if (code === "unknown_layer" || code === "unknown_scenario") { return "Deze laag of dit scenario bestaat niet (meer)."; }
    if (res.status === 422 && res.body && res.body.detail) { return res.body.detail; }
    if (res.status === 503) { return "De server is even te druk; probeer het over enkele seconden opnieuw."; }
    return "Dat lukte niet (" + res.status + "): " + (res.body && res.body.detail ? res.body.detail : "onbekende fout");
  }

  function say(id, text, warn) {
    var node = byId(id);
    if (!node) { return; }
    node.textContent = text;
    node.className = warn ? "warn" : "";
  }

  function numbers(text) {
    return String(text || "").split(/[\s,;]+/).filter(function (s) { return s !== ""; }).map(Number);
  }

  function groups(text) {
    return String(text || "").split(";").map(function (part) { return numbers(part); })
      .filter(function (g) { return g.length > 0; });
  }

  function optionalNumber(value) {
    var text = String(value || "").trim().replace(/\./g, "").replace(",", ".");
    return text === "" ? null : Number(text);
  }

  // -- the rules form --------------------------------------------------------------------------
  function rulesFromForm() {
    var zonesMode = document.querySelector("input[name=alt-zones-mode]:checked");
    var rules = {
      base_layer: byId("alt-layer").value,
      nest_in: byId("alt-nest").value,
      zones: zonesMode && zonesMode.value === "total" ? Number(byId("alt-zones-total").value) : "today",
      lower: optionalNumber(byId("alt-lower").value),
      upper: optionalNumber(byId("alt-upper").value),
      fixed: numbers(byId("alt-fixed").value),
      together: groups(byId("alt-together").value),
      seed: Number(byId("alt-seed").value || 0)
    };
    return rules;
  }

  function setupStart(data) {
    var form = byId("alt-form");
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = rulesFromForm();
      body.plans = Number(byId("alt-plans").value);
      body.chains = Number(byId("alt-chains").value);
      var codes = body.fixed.concat.apply(body.fixed, body.together);
      if (codes.some(function (n) { return !(n >= 10000 && n <= 99999); })) {
        say("alt-form-status", "Vaste gemeenten en groepen: geef NIS-codes van vijf cijfers, gescheiden door komma's (groepen door ';').", true);
        return;
      }
      if ((body.lower !== null && isNaN(body.lower)) || (body.upper !== null && isNaN(body.upper))) {
        say("alt-form-status", "Inwoners per zone: geef een getal, of laat het vak leeg.", true);
        return;
      }
      byId("alt-start").disabled = true;
      say("alt-form-status", "De regels worden nagekeken …", false);
      send("/api/v1/ensembles", "POST", body, data).then(function (res) {
        if (res.ok) { location.href = "/alternatieven/" + encodeURIComponent(res.body.id); return; }
        say("alt-form-status", problem(res), true);
        byId("alt-start").disabled = false;
      }).catch(function (err) {
        say("alt-form-status", "De server antwoordde niet: " + err.message, true);
        byId("alt-start").disabled = false;
      });
    });
  }

  // -- a job: progress, cancel, run again --------------------------------------------------------
  function setupJob(data) {
    if (!data.job) { return; }
    var bar = byId("alt-progress"), text = byId("alt-progress-text"), cancel = byId("alt-cancel");
    function show(job) {
      if (bar) { bar.value = job.progress; }
      if (text) {
        var words = data.status_words[job.status] || job.status;
        words = words.charAt(0).toUpperCase() + words.slice(1);
        text.textContent = words + (job.status === "running" ? ": " + pct(job.progress) : "") +
          (job.message ? " (" + job.message + ")" : "");
      }
    }
    if (cancel) {
      cancel.addEventListener("click", function () {
        cancel.disabled = true;
        send(data.api + "/cancel", "POST", null, data).then(function (res) {
          if (!res.ok) { say("alt-job-status", problem(res), true); cancel.disabled = false; return; }
          show(res.body);
          say("alt-job-status", "Geannuleerd; de berekening stopt binnen enkele seconden.", false);
        });
      });
    }
    var again = byId("alt-again");
    if (again) {
      again.addEventListener("click", function () {
        again.disabled = true;
        send(data.submit_url, "POST", data.job.params, data).then(function (res) {
          if (res.ok) { location.reload(); return; }
          say("alt-job-status", problem(res), true);
          again.disabled = false;
        });
      });
    }
    if (data.job.status !== "queued" && data.job.status !== "running") { return; }
    function poll() {
      send(data.api, "GET", null, data).then(function (res) {
        if (!res.ok) { say("alt-job-status", problem(res), true); setTimeout(poll, 3000); return; }
        show(res.body);
        if (res.body.status === "queued" || res.body.status === "running") { setTimeout(poll, 1000); }
        else { location.reload(); }
      }).catch(function () { setTimeout(poll, 3000); });
    }
    setTimeout(poll, 500);
  }

  // -- proposals and saving plans ------------------------------------------------------------------
  function setupProposals(data) {
    var form = byId("alt-propose-form");
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = JSON.parse(JSON.stringify(data.rules));
      delete body.plans; delete body.chains;
      body.objective = byId("alt-objective").value;
      body.n = Number(byId("alt-proposal-count").value || 3);
      byId("alt-propose").disabled = true;
      say("alt-propose-status", "Bezig met starten …", false);
      send("/api/v1/proposals", "POST", body, data).then(function (res) {
        if (res.ok) { location.href = "/alternatieven/voorstellen/" + encodeURIComponent(res.body.id); return; }
        say("alt-propose-status", problem(res), true);
        byId("alt-propose").disabled = false;
      });
    });
  }

  function setupSaving(data) {
    Array.prototype.forEach.call(document.querySelectorAll("button.alt-save"), function (button) {
      button.addEventListener("click", function () {
        button.disabled = true;
        var status = button.parentNode.querySelector(".alt-save-status");
        if (status) { status.textContent = "Opslaan …"; }
        send(button.getAttribute("data-url"), "POST", { name: button.getAttribute("data-name") }, data).then(function (res) {
          if (!res.ok) {
            if (status) { status.textContent = problem(res); status.className = "alt-save-status warn"; }
            button.disabled = false;
            return;
          }
          location.href = button.getAttribute("data-open") === "compare" ? res.body.compare_url : res.body.workbench_url;
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var data = readData();
    if (!data) { return; }
    if (data.writer && data.writer.needs_signin && !data.writer.signed_in) {
      var note = byId("alt-signin");
      if (note) { note.hidden = false; }
    }
    setupStart(data);
    setupJob(data);
    setupProposals(data);
    setupSaving(data);
    window.regiomatchAlternatives = { ready: true };
  });
}());
