/* The weighing on one page, as you answer: a question that the earlier answers make
   unnecessary is hidden; an answer the route no longer uses says so. Progressive
   enhancement: without this file the page shows every question and works the same.
   What is asked when comes from the rules (data-asked-when on each question, the
   answers of other steps in data-route-answers on the form); nothing here knows the
   Meldcode. */
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-route-answers]");
  Array.prototype.forEach.call(forms, function (form) {
    var questions = form.querySelectorAll("[data-asked-when]");
    if (!questions.length) { return; }
    var earlier = JSON.parse(form.getAttribute("data-route-answers") || "{}");

    function chosen(wrapper) {
      var checked = wrapper.querySelector("input[type=radio]:checked");
      return checked ? checked.value : null;
    }

    function holds(condition, answers) {
      return Object.keys(condition).every(function (q) {
        return condition[q].indexOf(answers[q]) !== -1;
      });
    }

    function update() {
      var answers = {};
      Object.keys(earlier).forEach(function (q) { answers[q] = earlier[q]; });
      Array.prototype.forEach.call(questions, function (q) { delete answers[q.dataset.question]; });
      Array.prototype.forEach.call(questions, function (wrapper) {
        var conditions = JSON.parse(wrapper.getAttribute("data-asked-when"));
        var reached = conditions.some(function (c) { return holds(c, answers); });
        var answer = chosen(wrapper);
        var note = wrapper.querySelector("[data-note]");
        if (reached) {
          wrapper.hidden = false;
          if (note) { note.hidden = true; }
          if (answer !== null) { answers[wrapper.dataset.question] = answer; }
        } else if (answer !== null) {
          wrapper.hidden = false;
          if (note) { note.textContent = wrapper.dataset.unused; note.hidden = false; }
        } else {
          wrapper.hidden = true;
        }
      });
    }

    form.addEventListener("change", update);
    update();
  });
})();
