// The lesson editor, enhanced: a small Markdown toolbar and a live preview rendered by the server
// (the same renderer and sanitiser as the import). Without JavaScript the form works as it is.
(function () {
  "use strict";
  var form = document.querySelector(".editor-form");
  var preview = document.getElementById("lesson-preview");
  var section = document.querySelector("[data-preview-url]");
  if (!form || !preview || !section || !section.dataset.previewUrl) {
    return;
  }
  var textarea = form.querySelector("textarea[data-preview]");
  var token = form.querySelector("input[name=csrf_token]");
  if (!textarea || !token) {
    return;
  }

  var timer = null;
  function refresh() {
    var body = new FormData();
    body.append("csrf_token", token.value);
    body.append("body", textarea.value);
    fetch(section.dataset.previewUrl, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var parsed = new DOMParser().parseFromString(html, "text/html");
        preview.replaceChildren.apply(preview, Array.prototype.slice.call(parsed.body.childNodes));
      })
      .catch(function () { /* the preview button still works */ });
  }
  if (!preview.querySelector(".lesson-body")) {
    refresh(); // the preview of the saved text, at once
  }
  textarea.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 600);
  });

  var toolbar = form.querySelector(".editor-toolbar");
  if (!toolbar) {
    return;
  }
  var actions = [
    ["**", "**", toolbar.dataset.bold || "B"],
    ["\n## ", "", toolbar.dataset.heading || "H2"],
    ["\n- ", "", toolbar.dataset.list || "•"],
    ["[", "](https://)", toolbar.dataset.link || "Link"]
  ];
  actions.forEach(function (action) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "kern-btn kern-btn--tertiary";
    button.textContent = action[2];
    button.addEventListener("click", function () {
      var start = textarea.selectionStart, end = textarea.selectionEnd;
      var selected = textarea.value.slice(start, end);
      textarea.setRangeText(action[0] + selected + action[1], start, end, "end");
      textarea.focus();
      textarea.dispatchEvent(new Event("input"));
    });
    toolbar.appendChild(button);
  });
  toolbar.setAttribute("role", "toolbar");
  toolbar.hidden = false;
})();
