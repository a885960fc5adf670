#!/usr/bin/env bash
# Debian packages the tests need: Chromium for the browser tests and a CJK font so pages
# render 汉字 instead of boxes. Installs only what is missing.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v npm >/dev/null || need+=(npm)
# The media tests run a real nginx-rtmp and ffmpeg (issue 14).
[ -x /usr/sbin/nginx ] || need+=(nginx)
[ -e /usr/lib/nginx/modules/ngx_rtmp_module.so ] || need+=(libnginx-mod-rtmp)
command -v ffmpeg >/dev/null || need+=(ffmpeg)
# Text inside product pictures (compliance.ocr, issue 17): Tesseract with Simplified Chinese.
command -v tesseract >/dev/null || need+=(tesseract-ocr)
[ -e /usr/share/tesseract-ocr/5/tessdata/chi_sim.traineddata ] || need+=(tesseract-ocr-chi-sim)
# Certificates are read back with pdftotext (tests/training/test_certificates.py).
command -v pdftotext >/dev/null || need+=(poppler-utils)
# ... and the CMaps it needs to read the certificate's STSong-Light (CID) text.
[ -d /usr/share/poppler/cMap ] || need+=(poppler-data)
fc-list 2>/dev/null | grep -qiE 'noto (sans|serif) cjk|wqy' || need+=(fonts-noto-cjk)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
echo "installing ${need[*]} with apt-get" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" fontconfig >/dev/null
