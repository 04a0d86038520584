/* Pendamping UMKM coach dashboard: the only script. No library, no build.
   1. Telegram Mini App theme: Telegram opens the Mini App with tgWebAppThemeParams (JSON) in the
      URL fragment; the colours become --tg-theme-* CSS variables, kept for the session's pages.
   2. Mini App sign-in: on /dashboard/app, the signed initData (tgWebAppData in the fragment) is
      posted to the server, which checks its signature before anything else.
   3. Filters submit when a choice changes (the button does the same without JavaScript). */
(function () {
  "use strict";
  var KEY = "umkmTgTheme";
  var COLOUR = /^#[0-9a-fA-F]{3,8}$/;

  function applyTheme(theme) {
    var root = document.documentElement;
    if (theme.bg_color && !theme.secondary_bg_color) { theme.secondary_bg_color = theme.bg_color; }
    Object.keys(theme).forEach(function (name) {
      var value = String(theme[name]);
      if (/^[a-z_]+$/.test(name) && COLOUR.test(value)) {
        root.style.setProperty("--tg-theme-" + name.replace(/_/g, "-"), value);
      }
    });
    root.classList.add("telegram");
  }

  function postEvent(type) {
    var message = JSON.stringify({ eventType: type, eventData: "" });
    try {
      if (window.TelegramWebviewProxy) {
        window.TelegramWebviewProxy.postEvent(type, "");
      } else if (window.external && "notify" in window.external) {
        window.external.notify(message);
      } else if (window.parent !== window) {
        window.parent.postMessage(message, "https://web.telegram.org");
      }
    } catch (e) { /* outside Telegram: nothing to tell */ }
  }

  var fragment = new URLSearchParams(window.location.hash.slice(1));
  var themeParams = fragment.get("tgWebAppThemeParams");
  try {
    if (themeParams) { window.sessionStorage.setItem(KEY, themeParams); }
    var stored = window.sessionStorage.getItem(KEY);
    if (stored) { applyTheme(JSON.parse(stored)); }
  } catch (e) { /* storage off or bad JSON: default colours */ }

  var login = document.getElementById("webapp-login");
  if (login) {
    var initData = fragment.get("tgWebAppData");
    postEvent("web_app_ready");
    postEvent("web_app_expand");
    if (initData) {
      login.elements.init_data.value = initData;
      login.submit();
    } else {
      var outside = document.getElementById("outside-telegram");
      if (outside) { outside.hidden = false; }
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("form.autosubmit select"), function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
