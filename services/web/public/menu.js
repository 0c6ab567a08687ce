// The menu on small screens: a disclosure button (aria-expanded) that shows and hides the navigation, so the
// alarm board is the first thing on a phone. Without scripts the menu simply stays open.

(() => {
  const button = document.querySelector('.menu-toggle');
  const nav = document.getElementById('menu');
  if (!button || !nav) return;
  document.documentElement.classList.add('menu-js');
  button.addEventListener('click', () => {
    const open = button.getAttribute('aria-expanded') !== 'true';
    button.setAttribute('aria-expanded', String(open));
    nav.classList.toggle('open', open);
  });
})();
