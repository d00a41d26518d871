<?xml version="1.0" encoding="UTF-8"?>
<!-- STRICTER: a DOCTYPE with only a home-made internal subset is valid XML for xmllint; Gongwen requires an official DTD -->
<!DOCTYPE 函 [
<!ELEMENT 函 (主旨)>
<!ELEMENT 主旨 (#PCDATA)>
]>
<函>
  <主旨>自訂格式</主旨>
</函>
