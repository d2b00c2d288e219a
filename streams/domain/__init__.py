"""What every part of greenai says about breaks: their kinds, statuses, causes and
dispositions, and the Discriminator's rules as a recon configures them.

Pure and at the bottom of the imports: the workers, the BFF and the CLI import it; it
imports none of them.
"""
