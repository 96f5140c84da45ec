#!/usr/bin/env bash
# Regenerates the simulator's committed media fixtures (packages/rtms-simulator/fixtures/).
# Needs ffmpeg with libx264. The outputs are committed, so this only runs when a fixture
# has to change; tests and the simulator never call ffmpeg to make media.
#
#   camera.h264    H.264 Annex B, 160x90, 25 fps, 2 s (50 access units), Constrained
#                  Baseline, an IDR every 10 frames, an access unit delimiter before every
#                  access unit and SPS/PPS repeated before every IDR, so the simulator can
#                  split it into access units and a client can start decoding at any IDR.
#   camera-N.jpg   4 JPEG camera frames, 160x90 (video codec JPG).
#   camera-N.png   2 PNG camera frames, 160x90 (video codec PNG).
#   share-N.jpg    2 JPEG "slides", 320x180 (deskshare codec JPG).
#   share-1.png    1 PNG slide, 320x180 (deskshare codec PNG).
set -euo pipefail

out="$(cd "$(dirname "$0")/.." && pwd)/fixtures"
mkdir -p "$out"
ff=(ffmpeg -hide_banner -loglevel error -y)
# shellcheck source=x264-settings.sh
source "$(dirname "$0")/x264-settings.sh"

"${ff[@]}" -f lavfi -i "testsrc=size=160x90:rate=25:duration=2" "${x264[@]}" "$out/camera.h264"

"${ff[@]}" -f lavfi -i "testsrc=size=160x90:rate=2:duration=2" -q:v 10 -f image2 "$out/camera-%d.jpg"
"${ff[@]}" -f lavfi -i "testsrc=size=160x90:rate=2:duration=1" -f image2 "$out/camera-%d.png"
"${ff[@]}" -f lavfi -i "smptebars=size=320x180" -frames:v 1 -q:v 8 "$out/share-1.jpg"
"${ff[@]}" -f lavfi -i "smptehdbars=size=320x180" -frames:v 1 -q:v 8 "$out/share-2.jpg"
"${ff[@]}" -f lavfi -i "smptebars=size=320x180" -frames:v 1 "$out/share-1.png"

ls -l "$out"
