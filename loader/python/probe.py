# Run by configure with each --with-python interpreter (3.8 or later): one
# tab-separated line: hexversion, EXT_SUFFIX, compiler flags for its
# headers, its site-packages (platlib).  No site, no user environment.
import os, sys, sysconfig
paths = sysconfig.get_paths()
dirs = []
for d in (paths["include"], paths["platinclude"], os.path.dirname(paths["include"])):
    if d and d not in dirs and d != "/usr/include" and os.path.isdir(d):
        dirs.append(d)
suffix = sysconfig.get_config_var("EXT_SUFFIX") or ""
sys.stdout.write("%#010x\t%s\t%s\t%s\n" % (sys.hexversion, suffix,
                                          " ".join("-I" + d for d in dirs), paths["platlib"]))
