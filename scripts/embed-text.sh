#!/usr/bin/env bash
# embed-text.sh NAME FILE — FILE's text as a C string constant `const char NAME[]` on standard output,
# so the binary carries it (the script `frost export --pytorch` writes). Every byte is kept: quotes,
# backslashes and non-ASCII bytes are escaped, each line is one literal ending in \n.
set -euo pipefail
name=$1 file=$2
echo "// generated from $file by scripts/embed-text.sh: do not edit"
echo "const char ${name}[] ="
LC_ALL=C od -An -v -tu1 "$file" | LC_ALL=C awk '
    BEGIN { line = "" }
    {
        for (i = 1; i <= NF; i++) {
            b = $i + 0
            if (b == 10) { print "    \"" line "\\n\""; line = ""; continue }
            if (b == 34) line = line "\\\""
            else if (b == 92) line = line "\\\\"
            else if (b >= 32 && b < 127 && b != 63) line = line sprintf("%c", b)
            else line = line sprintf("\\%03o", b)
        }
    }
    END { if (line != "") print "    \"" line "\""; print "    \"\";" }'
