// The alert queue's "select all" box: it ticks or clears every alert's box in the bulk
// form. Without script the boxes still work one by one, and the control stays hidden.
(function () {
  var all = document.getElementById("select-all");
  if (!all) { return; }
  var boxes = function () { return document.querySelectorAll("input[name=ids][form=bulk]"); };
  all.hidden = false;
  if (all.parentElement) { all.parentElement.hidden = false; }
  all.addEventListener("change", function () {
    boxes().forEach(function (box) { box.checked = all.checked; });
  });
  document.addEventListener("change", function (event) {
    if (event.target === all) { return; }
    var list = Array.prototype.slice.call(boxes());
    var ticked = list.filter(function (box) { return box.checked; }).length;
    all.checked = ticked > 0 && ticked === list.length;
    all.indeterminate = ticked > 0 && ticked < list.length;
  });
})();
