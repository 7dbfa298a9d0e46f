#!/usr/bin/env bash
# Generates the man page strata.1 and the bash completion of strata from the built
# executable's own --help texts (the only place they are written), at build time:
#   cli/gen-docs.sh STRATA_EXECUTABLE OUTPUT_DIR
# Every subcommand listed under "Subcommands:" is visited, recursively, so new commands
# appear in both without touching this script.
set -euo pipefail

STRATA="$1"
OUT="$2"
mkdir -p "$OUT"

help() { # help [SUBCOMMAND...]: the help text, with the executable's path shown as "strata"
  "$STRATA" "$@" --help | sed "s#${STRATA}#strata#g"
}
subcommandsOf() { # the names in the "Subcommands:" section of a help text on stdin
  awk '/^Subcommands:/ { on = 1; next } /^[^ ]/ { on = 0 } on && NF { print $1 }'
}

# Every command path: "" (strata itself), "check", "new subsystem", ...
paths=("")
for ((i = 0; i < ${#paths[@]}; ++i)); do
  read -r -a words <<<"${paths[$i]}"
  while read -r sub; do
    paths+=("${paths[$i]:+${paths[$i]} }$sub")
  done < <(help "${words[@]}" | subcommandsOf)
done

version="$("$STRATA" --version | awk '{ print $NF }')"

roff() { # escapes text for a no-fill roff block
  sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/" -e 's/-/\\-/g'
}

{
  echo ".\\\" Generated from 'strata --help' by cli/gen-docs.sh; do not edit."
  echo ".TH STRATA 1 \"\" \"strata $version\" \"User Commands\""
  echo ".SH NAME"
  echo "strata \\- $(help | head -n 1 | sed 's/^strata: //' | roff)"
  echo ".SH SYNOPSIS"
  echo ".B strata"
  echo "[OPTIONS] SUBCOMMAND [ARGS...]"
  echo ".SH DESCRIPTION"
  echo ".nf"
  help | tail -n +2 | roff
  echo ".fi"
  echo ".SH COMMANDS"
  for path in "${paths[@]:1}"; do
    read -r -a words <<<"$path"
    echo ".SS strata $path"
    echo ".nf"
    help "${words[@]}" | roff
    echo ".fi"
  done
  echo ".SH SEE ALSO"
  echo "The user guide: the docs/ folder of the strata sources (docs/install.md, docs/upgrading.md)."
} >"$OUT/strata.1"

# Bash completion: per command path, its subcommands, options and the values of options
# and positionals that the help lists as TEXT:{a,b,c}.
{
  echo "# bash completion for strata. Generated from 'strata --help' by cli/gen-docs.sh."
  # -g: bash-completion sources this file inside a function.
  echo "declare -gA _strata_words _strata_values"
  for path in "${paths[@]}"; do
    read -r -a words <<<"$path"
    text="$(help "${words[@]}")"
    subs="$(subcommandsOf <<<"$text" | tr '\n' ' ')"
    opts="$(awk '/^  -/ { n = split($1, f, ","); for (i = 1; i <= n; ++i) printf "%s ", f[i] }' \
      <<<"$text")"
    positional="$(awk '/^Positionals:/ { on = 1; next } /^[^ ]/ { on = 0 }
      on && match($0, /:\{[^}]*\}/) { v = substr($0, RSTART + 2, RLENGTH - 3); gsub(",", " ", v); printf "%s ", v }' \
      <<<"$text")"
    key="strata${path:+ $path}" # bash refuses "" as a key
    echo "_strata_words[\"$key\"]=\"$subs$opts$positional\""
    awk -v path="$key" '/^  -/ && match($0, /:\{[^}]*\}/) {
        v = substr($0, RSTART + 2, RLENGTH - 3); gsub(",", " ", v)
        n = split($1, f, ",")
        for (i = 1; i <= n; ++i) printf "_strata_values[\"%s %s\"]=\"%s\"\n", path, f[i], v
      }' <<<"$text"
  done
  cat <<'BASH'
_strata() {
  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD - 1]}"
  local path=strata word
  # The command path: the words before the cursor that name subcommands.
  for word in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    [[ -n "${_strata_words["$path $word"]+x}" ]] && path="$path $word"
  done
  if [[ -n "${_strata_values["$path $prev"]+x}" ]]; then
    mapfile -t COMPREPLY < <(compgen -W "${_strata_values["$path $prev"]}" -- "$cur")
    return
  fi
  mapfile -t COMPREPLY < <(compgen -W "${_strata_words["$path"]}" -- "$cur")
  if [[ ${#COMPREPLY[@]} -eq 0 && "$cur" != -* ]]; then
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
  fi
}
complete -o filenames -F _strata strata
BASH
} >"$OUT/strata.bash"
