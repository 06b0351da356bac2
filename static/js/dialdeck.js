// Dialdeck: the little the dashboard needs beyond htmx. Say so when an htmx request fails,
// since htmx does not swap error responses (403, 500) or report a lost connection by itself.
(function () {
  "use strict";

  function announce(text) {
    var box = document.getElementById("messages");
    if (!box) return;
    var p = document.createElement("p");
    p.className = "message message-error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    box.replaceChildren(p);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    if (status === 403) {
      announce("You are not allowed to do that. Ask an admin if you need to.");
    } else if (status === 404) {
      announce("That no longer exists. Reload the page.");
    } else {
      announce("Something went wrong (" + status + "). Please try again.");
    }
  });

  // Live figures poll ("every 2s") only while the tab is visible. htmx's trigger filter
  // ([document.visibilityState === 'visible']) is compiled with eval, which the
  // Content-Security-Policy forbids, so the check lives here: a poll is the one request htmx
  // issues with no triggering event; while the tab is hidden it is dropped and the timer goes on.
  document.addEventListener("htmx:confirm", function (event) {
    if (!event.detail.triggeringEvent && document.visibilityState !== "visible") {
      event.preventDefault();
    }
  });

  // A filter form marked data-apply="lists" (hx-trigger="submit, change") applies a list as soon as
  // it changes and a typed field (a day, a reason) only with its button or Enter. The change is
  // caught on the form, so fields the answer replaces keep applying (a trigger bound to the field
  // itself would stay with the field replaced).
  document.addEventListener("htmx:confirm", function (event) {
    var cause = event.detail.triggeringEvent;
    var form = event.detail.elt;
    if (!cause || cause.type !== "change" || !form || !form.dataset || form.dataset.apply !== "lists") return;
    if (!cause.target || cause.target.tagName !== "SELECT") event.preventDefault();
  });

  // Such a form takes its fields back from each answer (hx-select-oob, so errors show beside them),
  // and a newer choice waits, queued, while a request is in flight: an answer must not put back
  // the choice it was asked with over one made since (the queued request would then be sent with
  // the old one). So an answer's fields are left out when the form no longer holds what that
  // request sent, unless they carry errors to show; the newer answer brings them.
  function formState(form) {
    return new URLSearchParams(new FormData(form)).toString();
  }
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.tagName === "FORM" && form.dataset && form.dataset.apply === "lists") {
      form.dataset.sent = formState(form);
    }
  });
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var form = event.target && event.target.closest ? event.target.closest("form[data-apply='lists']") : null;
    if (!form || form.dataset.sent === undefined) return;
    var fragment = event.detail.fragment;
    var errors = fragment && fragment.querySelector && fragment.querySelector("[aria-invalid='true'], .form-errors");
    if (!errors && formState(form) !== form.dataset.sent) event.detail.shouldSwap = false;
  });

  // A refused save (HX-Refused: 422) comes back with its errors beside the fields: move focus to
  // the first field in error (else the error summary), so keyboard and screen-reader users land on it.
  document.addEventListener("htmx:afterSettle", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || xhr.getResponseHeader("HX-Refused") !== "422") return;
    var scope = event.detail.elt && event.detail.elt.isConnected ? event.detail.elt : document;
    var first = scope.querySelector("[aria-invalid='true']") || document.querySelector("[aria-invalid='true']") ||
      document.querySelector(".form-errors, .errorlist");
    if (!first) return;
    if (!first.hasAttribute("tabindex") && !/^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(first.tagName)) {
      first.setAttribute("tabindex", "-1");
    }
    first.focus();
  });

  var offline = false;
  document.addEventListener("htmx:sendError", function () {
    if (!offline) announce("The server cannot be reached. Live figures resume when it is back.");
    offline = true;
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (offline && event.detail.successful) {
      offline = false;
      var box = document.getElementById("messages");
      if (box) box.replaceChildren();
    }
  });
})();

// Copy buttons (templates/campaigns/partials/_copy_button.html): copy the text of the element
// named by data-copy-target, and say so on the button for a moment (and to screen readers).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      button.setAttribute("aria-live", "polite");
      setTimeout(function () { button.textContent = label; }, 2000);
    });
  });
})();

// The counted question of a bulk action (or why it cannot be done) comes back under the bulk form:
// move focus to it, so keyboard and screen-reader users land on the question they must answer.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "bulk-confirm") return;
    var question = target.querySelector("#bulk-question, [role='alert']");
    if (question) question.focus();
  });
})();
