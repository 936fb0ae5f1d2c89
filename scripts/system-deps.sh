#!/usr/bin/env bash
# Installs the Debian packages the portal needs outside Python, where it can (root with apt-get):
# CJK fonts and HarfBuzz subsetting for PDFs, poppler for reading PDFs back in tests. With --browser, also
# Debian's chromium for the browser tests, and npm (for axe-core) when no npm is on the PATH. Otherwise it prints
# the command to run.
set -u
# fonts-noto-cjk-extra: the heavy weights standing in for 小标宋 and 黑体; arphic gkai00mp / ukai and lxgw-wenkai:
# 楷体-style faces that cover simplified Chinese; cwtex-fs: a 仿宋 used only where its coverage is good (fonts.py).
pkgs=(fonts-noto-cjk fonts-noto-cjk-extra fonts-arphic-gkai00mp fonts-arphic-ukai fonts-lxgw-wenkai fonts-cwtex-fs
  libharfbuzz-subset0 poppler-utils libpango-1.0-0 libpangoft2-1.0-0)
if [ "${1:-}" = "--browser" ]; then
  pkgs+=(chromium)
  command -v npm >/dev/null 2>&1 || pkgs+=(npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "安装系统软件包：${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
else
  echo "提示：缺少系统软件包 ${missing[*]}，生成的 PDF 可能无法显示中文。请以 root 运行："
  echo "  apt-get install -y ${missing[*]}"
fi
exit 0
