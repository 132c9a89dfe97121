"""The sEMG typing course project: training CTC decoders on emg2qwerty sessions.

    striate train --task emg --model tds_conv --data-root DIR      # ends with 'test CER: NN.N%'
    striate sweep --over channels|train-fraction|sampling-rate --data-root DIR

`striate.emg.task` holds the training loop (windows, CTC; greedy decoding and CER from `st.text`) and
`striate.emg.sweep` the sweep command; the data live in `st.data.datasets.EMG2QWERTY`,
`striate.data.emg_transforms` and `striate.data.emg_synthetic`, the models in
`striate.models.emg`. Nothing here is imported by `import striate`.
"""
