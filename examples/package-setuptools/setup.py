from setuptools import Extension, setup

import abigate

# The one line that bakes the abigate record: record.c, compiled with this
# extension's own flags, is linked into it.
setup(ext_modules=[abigate.with_record(Extension("spam._spam", ["src/_spam.c"]))])
