// Catchment form in the browser: a chosen GeoJSON file is read into the text field (nothing is uploaded
// until the form is sent). No framework.
(() => {
  for (const input of document.querySelectorAll('input[type="file"][data-into]')) {
    input.addEventListener('change', () => {
      const target = document.getElementById(input.getAttribute('data-into'));
      const file = input.files?.[0];
      if (!target || !file) return;
      if (file.size > 60 * 1024) {
        target.value = '';
        // the page's own words, in its language
        input.setCustomValidity(input.getAttribute('data-too-big') || 'GeoJSON > 60 KB');
        input.reportValidity();
        return;
      }
      input.setCustomValidity('');
      const reader = new FileReader();
      reader.onload = () => {
        target.value = String(reader.result || '');
        const polygon = document.querySelector('input[name="shape"][value="polygon"]');
        if (polygon) polygon.checked = true;
      };
      reader.readAsText(file);
    });
  }
})();
