# fish completion for skyctl.  Every candidate comes from `skyctl complete`
# (its command and option tables, the node file, the live node's services),
# so this file only hands the tokens over and prints the answer.

function __skyctl_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l out ($tokens[1] complete -- $tokens[2..-1] "$cur" 2>/dev/null)
    set -q out[1]; or return
    printf '%s\n' $out[2..-1]
    if test "$out[1]" = files
        if string match -qr -- '^--[^=]+=' "$cur"
            set -l opt (string replace -r -- '=.*' '=' "$cur")
            printf "$opt%s\n" (__fish_complete_path (string replace -r -- '^[^=]*=' '' "$cur"))
        else
            __fish_complete_path "$cur"
        end
    end
end

complete -c skyctl -f -a '(__skyctl_complete)'
