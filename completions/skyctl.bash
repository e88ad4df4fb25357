# bash completion for skyctl.  Every candidate comes from `skyctl complete`
# (its command and option tables, the node file, the live node's services),
# so this file only splits the line and hands the answer to readline.

_skyctl() {
	local line=${COMP_LINE:0:COMP_POINT} cur pre breaks l
	local -a words out
	read -ra words <<<"$line"
	[[ $line == *[[:space:]] ]] && words+=("")
	cur=${words[${#words[@]} - 1]}
	mapfile -t out < <("${words[0]}" complete -- "${words[@]:1}" 2>/dev/null)
	COMPREPLY=()
	# readline replaces only the text after the last word-break character
	# (':' '=' '@' by default; bash leaves an '@' in the text), so
	# candidates lose what comes before it
	breaks=${COMP_WORDBREAKS//[^:=@]/}
	[[ -n $breaks && $cur == *[$breaks]* ]] && pre=${cur%"${cur##*[$breaks]}"}
	pre=${pre%@}
	for l in "${out[@]:1}"; do
		l=${l%%$'\t'*}
		COMPREPLY+=("${l#"$pre"}")
		[[ $l == */ ]] && compopt -o nospace 2>/dev/null
	done
	if [[ ${out[0]} == files ]]; then
		compopt -o filenames 2>/dev/null
		mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "${cur#"$pre"}")
	fi
	return 0
}

complete -F _skyctl skyctl
