// The operators' dashboard: swap in the server-rendered live part every few seconds, and send
// the Stop button's request. Plain JavaScript, no build step; the markup is the server's.
"use strict";

(function () {
  const REFRESH_MS = 2000;
  const live = document.getElementById("live");
  const connection = document.getElementById("connection");
  const notice = document.getElementById("notice");
  let confirming = null; // the job whose Stop button asks for a second click
  let timer = null;

  function say(text) {
    notice.textContent = text;
  }

  function showConnection(state) {
    connection.dataset.state = state;
    connection.textContent = state === "live" ? "live" : "reconnecting…";
  }

  // A refresh redraws the buttons: keep the one waiting for its confirmation as it was.
  function markConfirming() {
    if (confirming === null) return;
    const button = live.querySelector(`button[data-stop="${CSS.escape(confirming)}"]`);
    if (!button) {
      confirming = null;
      return;
    }
    button.classList.add("confirming");
    button.textContent = "Confirm stop";
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const response = await fetch(live.dataset.src, { credentials: "same-origin", cache: "no-store" });
      if (response.status === 401) {
        window.location.reload(); // logged out: the page sends the browser to the login form
        return;
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      live.innerHTML = await response.text();
      markConfirming();
      showConnection("live");
    } catch (error) {
      showConnection("lost");
    }
    timer = setTimeout(refresh, REFRESH_MS);
  }

  async function stop(jobId, button) {
    button.disabled = true;
    button.textContent = "Stopping…";
    const url = live.dataset.stop.replace("JOB", encodeURIComponent(jobId));
    try {
      const response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-Batchq-Dashboard": "stop" },
      });
      const body = await response.json().catch(() => ({}));
      say(response.ok
        ? `Job ${jobId.slice(0, 8)} stopped: ${body.finishedCount} applied, ${body.errorCount} failed, final.`
        : `Job ${jobId.slice(0, 8)} not stopped: ${body.message || response.status}`);
    } catch (error) {
      say(`Job ${jobId.slice(0, 8)} not stopped: the server did not answer.`);
    }
    refresh();
  }

  live.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-stop]");
    if (!button) return;
    const jobId = button.dataset.stop;
    if (confirming !== jobId) {
      // The first click asks; only a second click on the same button stops the job.
      live.querySelectorAll("button.confirming").forEach((other) => {
        other.classList.remove("confirming");
        other.textContent = "Stop";
      });
      confirming = jobId;
      markConfirming();
      return;
    }
    confirming = null;
    stop(jobId, button);
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && confirming !== null) {
      confirming = null;
      refresh();
    }
  });

  timer = setTimeout(refresh, REFRESH_MS);
})();
