/* Keeps the operator's status page current without reloading it.
 *
 * Plain JS, no libraries: the station has no internet. Every page_refresh_ms
 * it asks /api/status. When the latest unit or the shift's counts change, it
 * fetches /partials/latest and /partials/recent and swaps both into their
 * containers (#latest, #recent) in the same frame, so the screen changes in one
 * step without a reload flicker. Counts, yield, shift start, health line and
 * the tab title, the "starting up" and "DISK FULL" markers and the "importing
 * history: n of m" line are updated from the JSON on every poll. A failed poll shows
 * #conn-lost and the loop keeps trying; the next good poll hides it again.
 *
 * The text formats here mirror agent/web/pages.py (health_texts, age, pct,
 * page_title) so a poll writes exactly what the first render showed.
 */
(function () {
  "use strict";

  var COUNT_KEYS = ["Pass", "Warning", "Fail", "Error"];
  var cfg = document.body.dataset;
  var refreshMs = Math.max(200, parseInt(cfg.refreshMs, 10) || 500);
  var maxScanAgeS = parseFloat(cfg.maxScanAgeS) || 30;
  var lastPk = cfg.latestPk || "h" + (cfg.historyResults || 0);
  var lastCounts = countsKey(parseJson(cfg.counts));
  var failures = 0;

  function parseJson(text) {
    try {
      return JSON.parse(text || "null");
    } catch (err) {
      return null;
    }
  }

  function countsKey(counts) {
    if (!counts) {
      return "";
    }
    return COUNT_KEYS.map(function (key) { return counts[key]; }).join(",");
  }

  function byId(id) {
    return document.getElementById(id);
  }

  function setText(id, text) {
    var el = byId(id);
    if (el && el.textContent !== text) {
      el.textContent = text;
    }
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function clock(iso, withSeconds) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) {
      return "—";
    }
    var text = pad(d.getHours()) + ":" + pad(d.getMinutes());
    return withSeconds ? text + ":" + pad(d.getSeconds()) : text;
  }

  function ageText(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) {
      return "—";
    }
    if (seconds < 60) { return Math.floor(seconds) + " s"; }
    if (seconds < 3600) { return Math.floor(seconds / 60) + " min"; }
    if (seconds < 86400) { return Math.floor(seconds / 3600) + " h"; }
    return Math.floor(seconds / 86400) + " d";
  }

  function pctText(value, decimals) {
    if (value === null || value === undefined || !isFinite(value)) {
      return "—";
    }
    var text = value.toFixed(decimals);
    return (Number(text) === 0 ? "0" : text) + " %";
  }

  function verdictWord(status) {
    return status ? String(status).toUpperCase() : "—";
  }

  function titleFor(status) {
    var station = status.station_name || status.station_id;
    var latest = status.latest;
    if (!latest) {
      return "Waiting · " + station;
    }
    var unit = [latest.model, latest.serial].filter(Boolean).join(" ");
    return (verdictWord(latest.status) + " " + unit + " · " + station).replace("  ", " ");
  }

  function healthTexts(status) {
    var health = status.health;
    var watching = (health.watching || []).join(", ") || "no folder configured";
    if (health.starting_up) {
      watching += " (starting up: preparing the analysis)";
    } else if (health.scan_age_s === null || health.scan_age_s === undefined) {
      watching += " (not scanning yet)";
    } else if (health.scan_age_s > maxScanAgeS) {
      watching += " (stalled " + ageText(health.scan_age_s) + ")";
    }
    var waiting = health.files_waiting;
    var lastError = health.last_error
      ? "last error " + clock(health.last_error_at, true) + ": " + health.last_error
      : "last error: none";
    var outbox = status.outbox;
    var outboxText = "outbox: " + outbox.pending + " pending";
    if (outbox.pending && outbox.oldest_age_s !== null && outbox.oldest_age_s !== undefined) {
      outboxText += ", oldest " + ageText(outbox.oldest_age_s);
    }
    if (outbox.dead) {
      outboxText += ", " + outbox.dead + " rejected";
    }
    var central = status.central;
    return {
      watching: "watching " + watching,
      waiting: waiting + " file" + (waiting === 1 ? "" : "s") + " waiting",
      lastError: lastError,
      outbox: outboxText,
      central: centralText(central)
    };
  }

  // Mirrors pages.disk_full_text.
  function diskFullText(diskFull) {
    if (!diskFull) {
      return "";
    }
    return "DISK FULL: new results are not stored; free space on the disk of " + diskFull.folder;
  }

  // Mirrors pages.history_import_text.
  function historyImportText(progress) {
    if (!progress) {
      return "";
    }
    return "importing history: " + progress.done + " of " + progress.found;
  }

  // Mirrors pages.specs_text.
  function specsText(specs) {
    if (!specs || !specs.version) {
      return "specs: none (station rules)";
    }
    var text = "specs: " + specs.version + " (" + (specs.source || "?") + ")";
    return specs.last_error ? text + ", " + specs.last_error : text;
  }

  // Mirrors pages.central_health.
  function centralText(central) {
    if (!central || !central.configured) {
      return { text: "central: not configured", bad: false };
    }
    var since = central.last_sync_at ? ", last sync " + clock(central.last_sync_at, true) : ", no sync yet";
    var error = central.last_error || "";
    if (central.auth_failed) {
      return { text: "central: TOKEN REFUSED" + since + " (" + error + ")", bad: true };
    }
    if (central.reachable === false) {
      return { text: "central: unreachable" + since + " (" + error + ")", bad: true };
    }
    if (central.reachable === null || central.reachable === undefined) {
      return { text: "central: connecting", bad: false };
    }
    return { text: "central: connected" + since, bad: false };
  }

  // The banner's words come ready-made from /api/status (agent/web/sync_alert.py).
  function showSyncAlert(alert) {
    var el = byId("sync-alert");
    if (!el) {
      return;
    }
    setText("sync-alert-headline", alert ? alert.headline : "");
    setText("sync-alert-detail", alert ? alert.detail : "");
    el.className = "sync-alert sync-alert-" + (alert ? alert.kind : "none");
    el.hidden = !alert;
  }

  function showStatus(status) {
    COUNT_KEYS.forEach(function (key) {
      setText("count-" + key.toLowerCase(), String(status.counts[key]));
    });
    setText("yield-pct", pctText(status.yield_pct, 1));
    setText("shift-start", clock(status.shift_started_at, false));
    var texts = healthTexts(status);
    setText("health-watching", texts.watching);
    setText("health-waiting", texts.waiting);
    setText("health-error", texts.lastError);
    byId("health-error").title = texts.lastError;
    byId("health-watching").title = texts.watching;
    setText("health-outbox", texts.outbox);
    setText("health-central", texts.central.text);
    setText("health-specs", specsText(status.specs));
    var startingEl = byId("starting-up");
    if (startingEl) {
      startingEl.hidden = !status.health.starting_up;
    }
    var diskText = diskFullText(status.health.disk_full);
    var diskEl = byId("disk-full");
    if (diskEl) {
      setText("disk-full", diskText);
      diskEl.hidden = !diskText;
    }
    var importText = historyImportText(status.history_import);
    var importEl = byId("history-import");
    if (importEl) {
      setText("history-import", importText);
      importEl.hidden = !importText;
    }
    showSyncAlert(status.sync_alert);
    var centralEl = byId("health-central");
    if (centralEl) {
      centralEl.classList.toggle("health-bad", texts.central.bad);
    }
    var errorEl = byId("health-error");
    if (errorEl) {
      errorEl.classList.toggle("health-bad", Boolean(status.health.last_error));
    }
    var title = titleFor(status);
    if (document.title !== title) {
      document.title = title;
    }
  }

  function get(url, asJson) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, Math.max(3000, refreshMs * 4));
    return fetch(url, { cache: "no-store", signal: controller.signal })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(url + ": HTTP " + response.status);
        }
        return asJson ? response.json() : response.text();
      })
      .finally(function () { clearTimeout(timer); });
  }

  function swapFragments() {
    return Promise.all([get(cfg.latestUrl, false), get(cfg.recentUrl, false)]).then(
      function (html) {
        byId("latest").innerHTML = html[0];
        byId("recent").innerHTML = html[1];
      }
    );
  }

  function setConnected(ok) {
    var marker = byId("conn-lost");
    if (marker) {
      marker.hidden = ok;
    }
    document.body.classList.toggle("offline", !ok);
  }

  function poll() {
    get(cfg.statusUrl, true)
      .then(function (status) {
        // While none is shown, the history count stands in (the waiting text says it).
        var pk = status.latest ? String(status.latest.pk) : "h" + (status.history_results || 0);
        var counts = countsKey(status.counts);
        var changed = pk !== lastPk || counts !== lastCounts;
        return (changed ? swapFragments() : Promise.resolve()).then(function () {
          lastPk = pk;
          lastCounts = counts;
          showStatus(status);
        });
      })
      .then(function () {
        failures = 0;
        setConnected(true);
      })
      .catch(function () {
        failures += 1;
        setConnected(false);
      })
      .then(function () {
        // After a failure, ease off a little (at most 2 s) but never stop trying.
        var delay = failures ? Math.min(2000, refreshMs * 2) : refreshMs;
        setTimeout(poll, delay);
      });
  }

  setTimeout(poll, refreshMs);
})();
