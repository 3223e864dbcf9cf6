/* essaycheck: progressive enhancement for the student page.
 *
 * The page works without this script: the form posts to /check and the server returns the
 * whole page. With it, the word count is live and checking happens without a reload: the
 * same form is posted with fetch, and the feedback and any error message are taken from the
 * server's page (the same markup, escaped on the server) and swapped in, then focus moves to
 * them. No student text is kept anywhere by this script.
 */
(function () {
  "use strict";

  var form = document.getElementById("check-form");
  var answer = document.getElementById("answer");
  if (!form || !answer) {
    return;
  }
  var count = document.getElementById("word-count");
  var countAlert = document.getElementById("count-alert");
  var status = document.getElementById("check-status");
  var maxWords = parseInt(answer.getAttribute("data-max-words"), 10) || Infinity;
  var maxChars = parseInt(answer.getAttribute("data-max-chars"), 10) || Infinity;
  var wasOver = false;

  function formatNumber(n) {
    return n.toLocaleString("en-GB");
  }

  function countWords(text) {
    var trimmed = text.trim();
    return trimmed ? trimmed.split(/\s+/).length : 0;
  }

  function updateCount() {
    var text = answer.value;
    var words = countWords(text);
    var chars = Array.from(text).length;
    var over = words > maxWords || chars > maxChars;
    var label = formatNumber(words) + (words === 1 ? " word" : " words");
    if (words > maxWords) {
      label += ": over the " + formatNumber(maxWords) + "-word limit";
    } else if (chars > maxChars) {
      label += ": over the " + formatNumber(maxChars) + "-character limit";
    }
    count.textContent = label;
    count.classList.toggle("word-count--over", over);
    if (over !== wasOver && countAlert) {
      countAlert.textContent = over ? "Your answer is over the limit: shorten it to check it." : "";
    }
    wasOver = over;
  }

  answer.addEventListener("input", updateCount);
  updateCount();

  if (!window.fetch || !window.DOMParser || !window.FormData || !window.URLSearchParams) {
    return;
  }

  var busy = false;

  function swap(id, fresh) {
    var current = document.getElementById(id);
    var replacement = fresh.getElementById(id);
    if (current && replacement) {
      Array.prototype.forEach.call(replacement.querySelectorAll("[autofocus]"), function (el) {
        el.removeAttribute("autofocus"); // focus is moved below, once
      });
      current.replaceWith(document.importNode(replacement, true));
    }
  }

  function showResponse(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    if (!fresh.getElementById("result") || !fresh.getElementById("form-error-slot")) {
      return false; // not our page (a proxy error, say): let the browser show it
    }
    swap("form-error-slot", fresh);
    swap("result", fresh);
    var error = document.getElementById("form-error");
    var freshAnswer = fresh.getElementById("answer");
    if (freshAnswer) {
      ["aria-describedby", "aria-invalid"].forEach(function (name) {
        if (freshAnswer.hasAttribute(name)) {
          answer.setAttribute(name, freshAnswer.getAttribute(name));
        } else {
          answer.removeAttribute(name);
        }
      });
    }
    var token = fresh.querySelector("input[name=csrf_token]");
    var mine = form.querySelector("input[name=csrf_token]");
    if (token && mine) {
      mine.value = token.value;
    }
    if (fresh.title) {
      document.title = fresh.title;
    }
    var target = error || document.getElementById("result-heading");
    if (target) {
      target.focus({ preventScroll: true });
      var top = target.getBoundingClientRect().top;
      if (top < 0 || top > window.innerHeight * 0.6) {
        target.scrollIntoView({ block: "start" }); // bring it up only if it is out of view
      }
    }
    return true;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) {
      return;
    }
    busy = true;
    form.setAttribute("aria-busy", "true");
    status.textContent = "Checking your answer…";
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
      headers: { Accept: "text/html" },
      cache: "no-store"
    })
      .then(function (response) {
        return response.text();
      })
      .then(function (html) {
        status.textContent = "";
        if (!showResponse(html)) {
          form.submit();
        }
      })
      .catch(function () {
        status.textContent = "Could not reach the checker: sending the form instead…";
        busy = false;
        form.submit();
      })
      .then(function () {
        busy = false;
        form.removeAttribute("aria-busy");
      });
  });
})();
