#!/usr/bin/env bash
# Regenerates the stock talk-down messages (protocol's STOCK_MESSAGES) from their text: Mandarin, then
# English, spoken by espeak-ng and encoded as Opus in Ogg (mono, 24 kbit/s, a few kB each), so a
# fresh unit can answer "leave the area" before anyone has recorded a voice. An operator replaces
# them with recorded voices by dropping <name>.ogg (or .wav) into the unit's video.stockDir.
# Needs espeak-ng and ffmpeg (apt-get install espeak-ng ffmpeg); the generated files are committed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
say() { # name, Mandarin, English
  espeak-ng -v cmn -s 150 -w "$tmp/$1-zh.wav" "$2"
  espeak-ng -v en-gb -s 150 -w "$tmp/$1-en.wav" "$3"
  ffmpeg -loglevel error -y -i "$tmp/$1-zh.wav" -i "$tmp/$1-en.wav" \
    -filter_complex '[0:a]apad=pad_dur=0.6[a];[a][1:a]concat=n=2:v=0:a=1,aresample=48000' \
    -ac 1 -c:a libopus -b:a 24k -map_metadata -1 -fflags +bitexact "$here/$1.ogg"
}
say leave-area '请立即离开此区域。' 'Please leave this area now.'
say help-coming '救援人员正在赶来，请留在原地。' 'Help is on the way. Please stay where you are.'
say recording '此区域正在录像监控。' 'This area is under video surveillance.'
say stay-calm '请保持冷静，听从现场指挥。' 'Please stay calm and follow instructions.'
ls -l "$here"/*.ogg
