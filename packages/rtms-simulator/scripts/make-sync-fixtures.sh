#!/usr/bin/env bash
# Regenerates the sync-mark pictures (packages/rtms-simulator/fixtures/sync*). Needs ffmpeg
# with libx264. The outputs are committed; tests and the simulator never call ffmpeg to make
# media. A sync mark (README.md, "Sync marks") replaces one picture with a flat white one
# (mean luma 235 against about 125 for the normal fixtures), which a measuring tool finds by
# mean luma alone.
#
#   sync.h264        one IDR access unit (AUD, SPS, PPS, SEI, IDR slice), white, 160x90. Encoded
#                    with exactly the settings of camera.h264 (scripts/make-fixtures.sh), so its
#                    SPS and PPS are byte-identical to the camera clip's: a container holding the
#                    stream keeps one set of parameter sets. mediaFixtures.ts checks this at load.
#   sync-camera.jpg  white JPEG, 160x90 (video codec JPG).
#   sync-camera.png  white PNG, 160x90 (video codec PNG).
#   sync-share.jpg   white JPEG, 320x180 (deskshare codec JPG).
#   sync-share.png   white PNG, 320x180 (deskshare codec PNG).
set -euo pipefail

out="$(cd "$(dirname "$0")/.." && pwd)/fixtures"
mkdir -p "$out"
ff=(ffmpeg -hide_banner -loglevel error -y)
# shellcheck source=x264-settings.sh
source "$(dirname "$0")/x264-settings.sh"

"${ff[@]}" -f lavfi -i "color=c=white:size=160x90:rate=25:duration=0.04" "${x264[@]}" "$out/sync.h264"

"${ff[@]}" -f lavfi -i "color=c=white:size=160x90" -frames:v 1 -q:v 10 "$out/sync-camera.jpg"
"${ff[@]}" -f lavfi -i "color=c=white:size=160x90" -frames:v 1 "$out/sync-camera.png"
"${ff[@]}" -f lavfi -i "color=c=white:size=320x180" -frames:v 1 -q:v 8 "$out/sync-share.jpg"
"${ff[@]}" -f lavfi -i "color=c=white:size=320x180" -frames:v 1 "$out/sync-share.png"

ls -l "$out"/sync*
