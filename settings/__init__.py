"""What every stage may rely on and nothing else: the configuration's types (`schema`), its
loader (`loader`: default YAML deep-merged with a user file, typed and frozen), the user-error
types (`errors`), the project's paths, and the catalogs of the files a run reads (`inputs`) and
writes (`catalog`). It imports no other Vigía package.
"""
