// "Écouter à partir d'ici": the player jumps two seconds before the passage and plays.
document.querySelectorAll("button.ecouter").forEach(function (button) {
  button.addEventListener("click", function () {
    var player = document.getElementById("lecteur");
    if (!player) { return; }
    player.currentTime = parseFloat(button.dataset.start);
    player.play();
  });
});
