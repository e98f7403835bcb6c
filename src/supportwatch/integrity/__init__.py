"""Log integrity from CloudTrail's digest files (contract section 7): pure logic, no AWS.

`digest` reads digest files and their keys, `keys` verifies signatures with CloudTrail's public
keys, `outcomes` decides what is verified, invalid, missing, tampered or unlisted.
"""
