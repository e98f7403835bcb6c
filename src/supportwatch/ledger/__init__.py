"""The summaries table's ledger: its item layout and the pure logic of its writes and reads.

`items` is the one module that knows the layout (keys, attributes, indexes); `commits` groups
events into transactions and reads their cancellations. The boto3 adapter that sends the
requests is `supportwatch.aws.store`.
"""
